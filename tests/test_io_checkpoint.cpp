// Reading SevenNet checkpoints without LibTorch (zip + pickle), and the native
// model file. Expected numbers were read independently in Python with
// zipfile + a custom pickle.Unpickler + struct (no torch, no numpy).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "error.hpp"
#include "io/checkpoint.hpp"
#include "io/native.hpp"
#include "io/pickle.hpp"
#include "io/zip.hpp"
#include "model_file.hpp"
#include "reference.hpp"

namespace flashtp::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Kind = pickle::Value::Kind;

// ---- helpers -------------------------------------------------------------------

// A scratch directory for this process, removed at exit.
std::string scratch(const std::string& name) {
  static const struct Dir {
    fs::path path = fs::temp_directory_path() / ("flashtp_test_io_" + std::to_string(::getpid()));
    Dir() { fs::create_directories(path); }
    ~Dir() { fs::remove_all(path); }
  } dir;
  return (dir.path / name).string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void spit(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::string model(const std::string& name) { return test::reference_path("models/" + name + ".pth"); }

// Expect `f` to throw flashtp::Error whose message holds every one of `parts`.
template <class F>
void expect_error(F f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no flashtp::Error thrown; expected one mentioning '" << *parts.begin() << "'";
  } catch (const Error& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

// A minimal zip writer (no ZIP64, no data descriptors) for synthetic archives.
uint32_t crc32_of(const std::string& s) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return ~c;
}
struct ZipEntry {
  std::string name, content;    // content: the uncompressed bytes
  std::string deflated = "";    // if set: the raw deflate stream written instead (method 8)
  uint16_t method_override = 0;  // if set: the method number written
};
std::string zip_bytes(const std::vector<ZipEntry>& entries) {
  auto le = [](std::string& out, uint64_t v, int n) {
    for (int k = 0; k < n; ++k) out += static_cast<char>((v >> (8 * k)) & 0xff);
  };
  std::string out, directory;
  for (const auto& e : entries) {
    const std::string& stored = e.deflated.empty() ? e.content : e.deflated;
    const uint16_t method = e.method_override ? e.method_override : (e.deflated.empty() ? 0 : 8);
    std::string fields;  // shared by the local and the central header, from "version needed" on
    le(fields, 20, 2), le(fields, 0, 2), le(fields, method, 2), le(fields, 0, 4), le(fields, crc32_of(e.content), 4);
    le(fields, stored.size(), 4), le(fields, e.content.size(), 4), le(fields, e.name.size(), 2), le(fields, 0, 2);
    le(directory, 0x02014b50, 4), le(directory, 20, 2), directory += fields;
    le(directory, 0, 2), le(directory, 0, 2), le(directory, 0, 2), le(directory, 0, 4), le(directory, out.size(), 4);
    directory += e.name;
    le(out, 0x04034b50, 4), out += fields, out += e.name, out += stored;
  }
  const uint64_t directory_offset = out.size();
  out += directory;
  le(out, 0x06054b50, 4), le(out, 0, 4), le(out, entries.size(), 2), le(out, entries.size(), 2);
  le(out, directory.size(), 4), le(out, directory_offset, 4), le(out, 0, 2);
  return out;
}

// ---- synthetic pickles ---------------------------------------------------------
//
// Written by Python's pickle.Pickler (protocol 2, as torch.save uses) from
// stand-ins registered as the modules torch, torch._utils, numpy,
// numpy.core.multiarray and torch.optim, so the opcode stream is what
// torch.save writes. The object:
//   {'config': {'cutoff': 4.5, 'channel': 8, 'big': -2**40, 'flag': True, 'none': None,
//               'name': 'bessel', 'tuple': (1, 2.5, 'x'), '_type_map': {8: 0, 40: 1},
//               'radial_basis': {'bessel_basis_num': 8},
//               'shift': tensor(storage '1', offset 0, size (3,), stride (1,)),
//               'half': tensor(HalfStorage '2', size (2,)), 'long': tensor(LongStorage '3', size (2,)),
//               'expanded': tensor(storage '0', offset 2, size (2, 2), stride (0, 1)),
//               'np_f8': numpy.float64(0.1), 'np_i8': numpy.int64(-7), 'np_b1': numpy.bool_(True),
//               'device': torch.device('cuda', 1), 'dtype': torch.float32, 'species': {'Hf'},
//               'optimizer': torch.optim.Adam() with __dict__ {'lr': 0.01}},
//    'model_state_dict': OrderedDict(
//        w=tensor(DoubleStorage '0' of 8, offset 1, size (2, 3), stride (1, 2)),
//        p=Parameter(tensor(FloatStorage '1' of 3, size (3,))),
//        scalar=tensor(storage '0', offset 7, size (), stride ())) with _metadata,
//    'version': '0.12.2'}
// where tensor(...) is torch._utils._rebuild_tensor_v2 on a persistent id
// ('storage', torch.<Type>Storage, key, 'cpu', numel).
const char kTorchPickle[] =
    "\x80\x02}q\x00(X\x06\x00\x00\x00""configq\x01}q\x02(X\x06\x00\x00\x00""cutoffq\x03G@\x12\x00\x00\x00"
    "\x00\x00\x00X\x07\x00\x00\x00""channelq\x04K\x08X\x03\x00\x00\x00""bigq\x05\x8a\x06\x00\x00\x00"
    "\x00\x00\xffX\x04\x00\x00\x00""flagq\x06\x88X\x04\x00\x00\x00noneq\x07NX\x04\x00\x00\x00nameq\x08"
    "X\x06\x00\x00\x00""besselq\x09X\x05\x00\x00\x00tupleq\x0aK\x01G@\x04\x00\x00\x00\x00\x00\x00X\x01"
    "\x00\x00\x00xq\x0b\x87q\x0cX\x09\x00\x00\x00_type_mapq\x0d}q\x0e(K\x08K\x00K(K\x01uX\x0c\x00\x00"
    "\x00radial_basisq\x0f}q\x10X\x10\x00\x00\x00""bessel_basis_numq\x11K\x08sX\x05\x00\x00\x00shift"
    "q\x12""ctorch._utils\x0a_rebuild_tensor_v2\x0aq\x13((X\x07\x00\x00\x00storageq\x14""ctorch\x0a""F"
    "loatStorage\x0aq\x15X\x01\x00\x00\x00""1q\x16X\x03\x00\x00\x00""cpuq\x17K\x03tq\x18QK\x00K\x03\x85"
    "q\x19K\x01\x85q\x1a\x89""ccollections\x0aOrderedDict\x0aq\x1b)Rq\x1ctq\x1dRq\x1eX\x04\x00\x00\x00"
    "halfq\x1fh\x13((h\x14""ctorch\x0aHalfStorage\x0aq X\x01\x00\x00\x00""2q!h\x17K\x02tq\x22QK\x00K"
    "\x02\x85q#h\x1a\x89h\x1b)Rq$tq%Rq&X\x04\x00\x00\x00longq'h\x13((h\x14""ctorch\x0aLongStorage\x0a"
    "q(X\x01\x00\x00\x00""3q)h\x17K\x02tq*QK\x00h#h\x1a\x89h\x1b)Rq+tq,Rq-X\x08\x00\x00\x00""expande"
    "dq.h\x13((h\x14""ctorch\x0a""DoubleStorage\x0aq/X\x01\x00\x00\x00""0q0h\x17K\x08tq1QK\x02K\x02K"
    "\x02\x86q2K\x00K\x01\x86q3\x89h\x1b)Rq4tq5Rq6X\x05\x00\x00\x00np_f8q7cnumpy.core.multiarray\x0a"
    "scalar\x0aq8cnumpy\x0a""dtype\x0aq9X\x02\x00\x00\x00""f8q:\x89\x88\x87q;Rq<(K\x03X\x01\x00\x00\x00"
    "<q=NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq>bc_codecs\x0a""encode\x0aq\x3fX\x0f\x00\x00\x00"
    "\xc2\x9a\xc2\x99\xc2\x99\xc2\x99\xc2\x99\xc2\x99\xc2\xb9\x3fq@X\x06\x00\x00\x00latin1qA\x86qBRq"
    "C\x86qDRqEX\x05\x00\x00\x00np_i8qFh8h9X\x02\x00\x00\x00i8qG\x89\x88\x87qHRqIh>bh\x3fX\x10\x00\x00"
    "\x00\xc3\xb9\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbfqJhA\x86qKRqL\x86qMRqNX\x05"
    "\x00\x00\x00np_b1qOh8h9X\x02\x00\x00\x00""b1qP\x89\x88\x87qQRqRh>bh\x3fX\x01\x00\x00\x00\x01qSh"
    "A\x86qTRqU\x86qVRqWX\x06\x00\x00\x00""deviceqXctorch\x0a""device\x0aqYX\x04\x00\x00\x00""cudaqZ"
    "K\x01\x86q[Rq\x5cX\x05\x00\x00\x00""dtypeq]ctorch\x0a""float32\x0aq^X\x07\x00\x00\x00speciesq_c"
    "__builtin__\x0aset\x0aq`]qaX\x02\x00\x00\x00Hfqba\x85qcRqdX\x09\x00\x00\x00optimizerqectorch.op"
    "tim\x0a""Adam\x0aqf)\x81qg}qhX\x02\x00\x00\x00lrqiG\x3f\x84z\xe1G\xae\x14{sbuX\x10\x00\x00\x00m"
    "odel_state_dictqjh\x1b)Rqk(X\x01\x00\x00\x00wqlh\x13((h\x14h/h0h\x17K\x08tqmQK\x01K\x02K\x03\x86"
    "qnK\x01K\x02\x86qo\x89h\x1b)RqptqqRqrX\x01\x00\x00\x00pqsctorch._utils\x0a_rebuild_parameter\x0a"
    "qth\x13((h\x14h\x15h\x16h\x17K\x03tquQK\x00h\x19h\x1a\x89h\x1b)RqvtqwRqx\x88h\x1b)Rqy\x87qzRq{X"
    "\x06\x00\x00\x00scalarq|h\x13((h\x14h/h0h\x17K\x08tq}QK\x07))\x89h\x1b)Rq~tq\x7fRq\x80u}q\x81X\x09"
    "\x00\x00\x00_metadataq\x82}q\x83X\x00\x00\x00\x00q\x84}q\x85X\x07\x00\x00\x00versionq\x86K\x01s"
    "ssbh\x86X\x06\x00\x00\x00""0.12.2q\x87u.";

// Protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL, EMPTY_SET/ADDITEMS,
// SHORT_BINBYTES, NEWOBJ): {'set': {'Hf'}, 'bytes': b'\x00\xff',
// 'od': OrderedDict(a=1), 'device': torch.device('cuda', 1), 'adam': Adam()}.
const char kProtocol4Pickle[] =
    "\x80\x04\x95\xa3\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x03set\x94\x8f\x94(\x8c\x02Hf\x94\x90\x8c\x05"
    "bytes\x94""C\x02\x00\xff\x94\x8c\x02od\x94\x8c\x0b""collections\x94\x8c\x0bOrderedDict\x94\x93\x94"
    ")R\x94\x8c\x01""a\x94K\x01s\x8c\x06""device\x94\x8c\x05torch\x94h\x0c\x93\x94\x8c\x04""cuda\x94"
    "K\x01\x86\x94R\x94\x8c\x04""adam\x94\x8c\x0btorch.optim\x94\x8c\x04""Adam\x94\x93\x94)\x81\x94}"
    "\x94\x8c\x02lr\x94G\x3f\x84z\xe1G\xae\x14{sbu.";

// 'SevenNet ' * 20 as a raw deflate stream (zlib.compressobj(9, DEFLATED, -15)).
const char kDeflated[] = "\x0bN-K\xcd\xf3K-Q\x08\x1e:\x0c\x00";

// {'config': {}} and [1], protocol 2.
const char kConfigOnlyPickle[] = "\x80\x02}q\x00X\x06\x00\x00\x00""configq\x01}q\x02s.";
const char kListPickle[] = "\x80\x02]q\x00K\x01""a.";

std::string bytes_of(const char* literal, size_t size_with_nul) { return std::string(literal, size_with_nul - 1); }
#define LITERAL(x) bytes_of(x, sizeof(x))

// The storages of kTorchPickle: '0' doubles 0, 0.5, ..., 3.5; '1' floats
// 1.5 -2.25 3; '2' halves 1 -2.5; '3' int64 -3 5.
std::map<std::string, std::string> torch_storages() {
  std::string d, f, h, l;
  for (int k = 0; k < 8; ++k) {
    const double v = 0.5 * k;
    d.append(reinterpret_cast<const char*>(&v), 8);
  }
  for (float v : {1.5f, -2.25f, 3.0f}) f.append(reinterpret_cast<const char*>(&v), 4);
  h = std::string("\x00\x3c\x00\xc1", 4);
  for (int64_t v : {int64_t{-3}, int64_t{5}}) l.append(reinterpret_cast<const char*>(&v), 8);
  return {{"0", d}, {"1", f}, {"2", h}, {"3", l}};
}

pickle::ValuePtr load_torch_pickle(const std::map<std::string, std::string>& storages) {
  return pickle::load(LITERAL(kTorchPickle), [&](const std::string& key) { return storages.at(key); });
}

// A torch.save-shaped archive of kTorchPickle and its storages.
std::string synthetic_checkpoint() {
  std::vector<ZipEntry> entries{{"archive/data.pkl", LITERAL(kTorchPickle)}, {"archive/byteorder", "little"}};
  for (const auto& [key, bytes] : torch_storages()) entries.push_back({"archive/data/" + key, bytes});
  const std::string path = scratch("synthetic.pth");
  spit(path, zip_bytes(entries));
  return path;
}

// ---- the reference checkpoints ------------------------------------------------

double at(const Tensor& t, std::initializer_list<int64_t> index) {
  int64_t flat = 0, d = 0;
  for (int64_t i : index) flat = flat * t.shape[d++] + i;
  return t.values[flat];
}

TEST(CheckpointReference, TinyParity) {
  const ModelSource s = read_checkpoint(model("tiny_parity"));
  EXPECT_EQ(s.origin, "checkpoint");
  EXPECT_EQ(s.version, "0.12.2");
  const json& c = s.config;
  EXPECT_EQ(c["cutoff"], 4.0);
  EXPECT_EQ(c["channel"], 8);
  EXPECT_EQ(c["lmax"], 2);
  EXPECT_EQ(c["is_parity"], true);
  EXPECT_EQ(c["num_convolution_layer"], 2);
  EXPECT_EQ(c["conv_denominator"], 7.5);
  EXPECT_EQ(c["chemical_species"], json({"O", "Zr", "Hf"}));
  EXPECT_EQ(c["_type_map"], json({{"8", 0}, {"40", 1}, {"72", 2}}));
  EXPECT_EQ(c["shift"], json({-2.8049353507515042, -1.1488898148094768, -2.2833331701242936}));
  EXPECT_EQ(c["scale"], json({0.8729938586875521, 1.254592932400073, 1.0531990013670942}));
  EXPECT_EQ(c["radial_basis"]["bessel_basis_num"], 8);
  EXPECT_EQ(c["cutoff_function"]["cutoff_function_name"], "poly_cut");
  EXPECT_EQ(c["cutoff_function"]["poly_cut_p_value"], 6);
  EXPECT_EQ(c["act_gate"], json({{"e", "silu"}, {"o", "tanh"}}));
  EXPECT_EQ(c["cuequivariance_config"], json::object());
  EXPECT_EQ(c["irreps_manual"], false);

  EXPECT_EQ(s.weights.size(), 44u);
  const Tensor& w = s.weights.at("0_convolution.weight_nn.layer0.weight");
  EXPECT_EQ(w.shape, (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(w.dtype, "float32");
  EXPECT_EQ(at(w, {3, 5}), 0.2033921182155609);
  EXPECT_EQ(s.weights.at("rescale_atomic_energy.shift").values[2], -2.1492278575897217);
  EXPECT_EQ(s.weights.at("edge_embedding.basis_function.coeffs").values[7], 6.415261745452881);
  EXPECT_EQ(s.weights.at("1_convolution.denominator").values, std::vector<double>{7.366315841674805});
  EXPECT_EQ(s.weights.at("0_self_connection_intro.fc_tensor_product.weight").values[575], -1.2446202039718628);
  EXPECT_EQ(s.weights.at("onehot_to_feature_x.linear.bias").shape, std::vector<int64_t>{0});
}

TEST(CheckpointReference, SevenNet0Architecture) {
  const ModelSource s = read_checkpoint(model("sevennet0_arch"));
  const json& c = s.config;
  EXPECT_EQ(c["cutoff"], 5.0);
  EXPECT_EQ(c["channel"], 128);
  EXPECT_EQ(c["lmax"], 2);
  EXPECT_EQ(c["is_parity"], false);
  EXPECT_EQ(c["num_convolution_layer"], 5);
  EXPECT_EQ(c["conv_denominator"], 35.989574);
  EXPECT_EQ(c["self_connection_type"], "linear");
  EXPECT_EQ(c["irreps_manual"][1], "128x0e+64x1e+32x2e");
  EXPECT_EQ(c["chemical_species"], json({"O", "Zr", "Hf"}));
  EXPECT_EQ(c["_type_map"]["72"], 2);
  EXPECT_EQ(c["shift"][0], -2.736040797311993);
  EXPECT_EQ(c["scale"][2], 1.818968135148878);
  EXPECT_EQ(c["radial_basis"]["bessel_basis_num"], 8);
  EXPECT_EQ(c["cutoff_function"], json({{"cutoff_function_name", "XPLOR"}, {"cutoff_on", 4.5}}));
  EXPECT_EQ(c["weight_nn_hidden_neurons"], json({64, 64}));

  EXPECT_EQ(s.weights.size(), 121u);
  const Tensor& radial = s.weights.at("4_convolution.weight_nn.layer2.weight");
  EXPECT_EQ(radial.shape, (std::vector<int64_t>{64, 224}));
  EXPECT_EQ(at(radial, {63, 0}), 0.6559497117996216);
  const Tensor& w3j = s.weights.at("1_convolution.convolution._compiled_main_left_right._w3j_2_2_2");
  EXPECT_EQ(w3j.shape, (std::vector<int64_t>{5, 5, 5}));
  EXPECT_EQ(at(w3j, {0, 3, 1}), 0.20701967179775238);
  EXPECT_EQ(s.weights.at("rescale_atomic_energy.scale").values[1], 1.117065191268921);
  EXPECT_EQ(s.weights.at("0_convolution.denominator").values[0], 36.17924880981445);
}

TEST(CheckpointReference, L3I5Architecture) {
  const ModelSource s = read_checkpoint(model("l3i5_arch"));
  const json& c = s.config;
  EXPECT_EQ(c["cutoff"], 5.0);
  EXPECT_EQ(c["channel"], 128);
  EXPECT_EQ(c["lmax"], 3);
  EXPECT_EQ(c["num_convolution_layer"], 5);
  EXPECT_EQ(c["irreps_manual"][2], "128x0e+64x1e+32x2e+32x3e");
  EXPECT_EQ(c["_type_map"], json({{"8", 0}, {"40", 1}, {"72", 2}}));
  EXPECT_EQ(c["shift"][2], -5.223086056157289);
  EXPECT_EQ(c["scale"][0], 0.7008836238187943);
  EXPECT_EQ(c["radial_basis"]["bessel_basis_num"], 8);
  EXPECT_EQ(c["cutoff_function"]["cutoff_function_name"], "poly_cut");

  EXPECT_EQ(s.weights.size(), 169u);
  const Tensor& radial = s.weights.at("4_convolution.weight_nn.layer2.weight");
  EXPECT_EQ(radial.shape, (std::vector<int64_t>{64, 256}));
  EXPECT_EQ(at(radial, {10, 20}), 0.6574676632881165);
  const Tensor& w3j = s.weights.at("3_convolution.convolution._compiled_main_left_right._w3j_3_3_3");
  EXPECT_EQ(at(w3j, {0, 4, 5}), 0.15430335700511932);
  EXPECT_EQ(s.weights.at("rescale_atomic_energy.shift").values[2], -5.254600524902344);
  EXPECT_EQ(s.weights.at("onehot_to_feature_x.linear.weight").values[100], -0.1533786952495575);
}

// references.json's num_params is sum(p.numel() for p in model.parameters()).
// That includes the denominators, shift, scale and Bessel coefficients (torch
// Parameters even when not trained: requires_grad is False, not a buffer) and
// excludes buffers: e3nn's output_mask, and the _w3j_* Wigner-3j tables that
// e3nn's compiled TensorProduct registers in some layers (1536 numbers in
// sevennet0_arch, 9558 in l3i5_arch; none in tiny_parity).
TEST(CheckpointReference, ParameterCountMatchesUpstream) {
  for (const std::string name : {"tiny_parity", "sevennet0_arch", "l3i5_arch"}) {
    const ModelSource s = read_checkpoint(model(name));
    int64_t count = 0;
    for (const auto& [key, t] : s.weights) {
      const bool buffer = key.size() >= 11 && key.compare(key.size() - 11, 11, "output_mask") == 0;
      if (!buffer && key.find("._w3j_") == std::string::npos) count += t.numel();
    }
    EXPECT_EQ(count, test::references()["models"][name]["num_params"].get<int64_t>()) << name;
  }
}

// ---- the pickle machine --------------------------------------------------------

TEST(CheckpointPickle, TorchSaveOpcodesAndTensorViews) {
  const auto storages = torch_storages();
  const pickle::ValuePtr top = load_torch_pickle(storages);
  ASSERT_EQ(top->kind, Kind::Dict);
  const pickle::Value* state = top->find("model_state_dict");
  ASSERT_TRUE(state);
  ASSERT_EQ(state->kind, Kind::Dict);  // an OrderedDict, its _metadata (BUILD) dropped
  ASSERT_EQ(state->entries.size(), 3u);
  EXPECT_EQ(state->entries[0].first->text, "w");  // insertion order kept

  // A transposed view at offset 1: element (i, j) is storage[1 + i + 2 j].
  const Tensor& w = state->find("w")->tensor;
  EXPECT_EQ(w.dtype, "float64");
  EXPECT_EQ(w.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w.values, (std::vector<double>{0.5, 1.5, 2.5, 1.0, 2.0, 3.0}));
  const pickle::Value* p = state->find("p");  // _rebuild_parameter gives the tensor itself
  ASSERT_EQ(p->kind, Kind::Tensor);
  EXPECT_EQ(p->tensor.dtype, "float32");
  EXPECT_EQ(p->tensor.values, (std::vector<double>{1.5, -2.25, 3.0}));
  const Tensor& scalar = state->find("scalar")->tensor;  // 0-d
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.values, std::vector<double>{3.5});

  const pickle::Value& config = *top->find("config");
  EXPECT_EQ(config.find("big")->integer, -(int64_t{1} << 40));  // LONG1
  EXPECT_EQ(config.find("expanded")->tensor.values, (std::vector<double>{1.0, 1.5, 1.0, 1.5}));  // stride 0
  EXPECT_EQ(config.find("half")->tensor.dtype, "float16");
  EXPECT_EQ(config.find("half")->tensor.values, (std::vector<double>{1.0, -2.5}));
  EXPECT_EQ(config.find("long")->tensor.values, (std::vector<double>{-3, 5}));
  EXPECT_EQ(config.find("np_f8")->number, 0.1);
  EXPECT_EQ(config.find("np_i8")->integer, -7);
  EXPECT_EQ(config.find("np_b1")->kind, Kind::Bool);
  EXPECT_EQ(config.find("device")->text, "cuda:1");
  EXPECT_EQ(config.find("dtype")->kind, Kind::Global);
  EXPECT_EQ(config.find("dtype")->text, "torch.float32");
  EXPECT_EQ(config.find("species")->kind, Kind::List);  // builtins.set
  const pickle::Value* adam = config.find("optimizer");  // unknown: kept opaque, with its BUILD state
  ASSERT_EQ(adam->kind, Kind::Object);
  EXPECT_EQ(adam->text, "torch.optim.Adam");
  ASSERT_TRUE(adam->state);
  EXPECT_EQ(adam->state->find("lr")->number, 0.01);
  const pickle::Value* type_map = config.find("_type_map");
  ASSERT_EQ(type_map->entries.size(), 2u);
  EXPECT_EQ(type_map->entries[1].first->integer, 40);  // int keys stay ints here
}

TEST(CheckpointPickle, Protocol4Opcodes) {
  const pickle::ValuePtr top = pickle::load(LITERAL(kProtocol4Pickle), nullptr);
  ASSERT_EQ(top->kind, Kind::Dict);
  const pickle::Value* set = top->find("set");
  ASSERT_EQ(set->kind, Kind::List);
  ASSERT_EQ(set->items.size(), 1u);
  EXPECT_EQ(set->items[0]->text, "Hf");
  EXPECT_EQ(top->find("bytes")->text, std::string("\x00\xff", 2));
  EXPECT_EQ(top->find("od")->find("a")->integer, 1);
  EXPECT_EQ(top->find("device")->text, "cuda:1");
  EXPECT_EQ(top->find("adam")->text, "torch.optim.Adam");
  EXPECT_EQ(top->find("adam")->state->find("lr")->number, 0.01);
}

TEST(CheckpointPickle, MalformedInput) {
  const auto load = [](const std::string& bytes) { return pickle::load(bytes, nullptr); };
  const std::string torch_pickle = LITERAL(kTorchPickle);
  expect_error([&] { load(torch_pickle.substr(0, 300)); }, {"pickle: truncated pickle", "at byte"});
  expect_error([&] { load(std::string("\x80\x02I1\n.", 6)); }, {"unsupported opcode at byte 2 (opcode 0x49)"});
  expect_error([&] { load(std::string("\x80\x06N.", 4)); }, {"protocol 6 is not supported"});
  expect_error([&] { load(std::string("\x80\x02N", 3)); }, {"ends without STOP"});
  expect_error([&] { load(std::string("\x80\x02h\x05.", 5)); }, {"memo key 5"});
  expect_error([&] { load(std::string("\x80\x02\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09.", 14)); },
               {"does not fit in 64 bits"});
  auto storages = torch_storages();
  storages["0"].resize(8 * 7);  // one double short of its 8 elements
  expect_error([&] { load_torch_pickle(storages); }, {"storage '0' has 56 bytes, expected 8 x 8"});
}

// ---- the zip reader ------------------------------------------------------------

TEST(CheckpointZip, StoredAndDeflatedEntries) {
  std::string text;
  for (int k = 0; k < 20; ++k) text += "SevenNet ";
  const std::string path = scratch("entries.zip");
  spit(path, zip_bytes({{"a/stored.txt", "hello"}, {"a/deflated.txt", text, LITERAL(kDeflated)}, {"a/empty", ""}}));
  const ZipArchive zip(path);
  EXPECT_EQ(zip.names(), (std::vector<std::string>{"a/stored.txt", "a/deflated.txt", "a/empty"}));
  EXPECT_TRUE(zip.contains("a/empty"));
  EXPECT_FALSE(zip.contains("a/missing"));
  EXPECT_EQ(zip.read("a/stored.txt"), "hello");
  EXPECT_EQ(zip.size("a/deflated.txt"), text.size());
  EXPECT_EQ(zip.read("a/deflated.txt"), text);
  EXPECT_EQ(zip.read("a/empty"), "");
  expect_error([&] { zip.read("a/missing"); }, {path, "no entry 'a/missing'"});
}

TEST(CheckpointZip, TorchArchiveWithZip64Record) {
  const ZipArchive zip(model("tiny_parity"));  // PyTorch always adds a ZIP64 end record
  EXPECT_EQ(zip.names().size(), 50u);
  EXPECT_EQ(zip.names()[0], "tiny_parity/data.pkl");
  EXPECT_EQ(zip.read("tiny_parity/byteorder"), "little");
  EXPECT_EQ(zip.size("tiny_parity/data.pkl"), 11060u);
}

TEST(CheckpointZip, CorruptEntries) {
  std::string bytes = zip_bytes({{"x", "payload"}});
  bytes[30 + 1 + 2] ^= 1;  // a data byte after the 30-byte local header and the 1-byte name
  spit(scratch("crc.zip"), bytes);
  expect_error([&] { ZipArchive(scratch("crc.zip")).read("x"); }, {"'x' is corrupt (CRC-32 mismatch)"});

  spit(scratch("bzip2.zip"), zip_bytes({{"x", "payload", "", 12}}));
  expect_error([&] { ZipArchive(scratch("bzip2.zip")).read("x"); }, {"compression method 12"});
}

// ---- read_checkpoint: conversion and errors ----------------------------------

TEST(CheckpointRead, ConfigBecomesJson) {
  const std::string path = synthetic_checkpoint();
  const ModelSource s = read_checkpoint(path);
  EXPECT_EQ(s.version, "0.12.2");
  const json& c = s.config;
  EXPECT_EQ(c["cutoff"], 4.5);
  EXPECT_TRUE(c["channel"].is_number_integer());
  EXPECT_EQ(c["big"], -(int64_t{1} << 40));
  EXPECT_EQ(c["flag"], true);
  EXPECT_TRUE(c["none"].is_null());
  EXPECT_EQ(c["tuple"], json::parse(R"([1, 2.5, "x"])"));
  EXPECT_EQ(c["_type_map"], json::parse(R"({"8": 0, "40": 1})"));
  EXPECT_EQ(c["radial_basis"]["bessel_basis_num"], 8);
  EXPECT_EQ(c["shift"], json({1.5, -2.25, 3.0}));  // tensors become (nested) arrays
  EXPECT_EQ(c["expanded"], json::parse("[[1.0, 1.5], [1.0, 1.5]]"));
  EXPECT_EQ(c["long"], json({-3.0, 5.0}));
  EXPECT_EQ(c["np_f8"], 0.1);
  EXPECT_EQ(c["np_i8"], -7);
  EXPECT_EQ(c["np_b1"], true);
  EXPECT_EQ(c["device"], "cuda:1");
  EXPECT_EQ(c["dtype"], "torch.float32");
  EXPECT_EQ(c["species"], json({"Hf"}));
  EXPECT_EQ(c["optimizer"], "<a torch.optim.Adam object>");

  ASSERT_EQ(s.weights.size(), 3u);
  EXPECT_EQ(s.weights.at("w").values, (std::vector<double>{0.5, 1.5, 2.5, 1.0, 2.0, 3.0}));
  EXPECT_EQ(s.weights.at("p").dtype, "float32");
}

TEST(CheckpointRead, Errors) {
  const std::string missing = scratch("no_such_file.pth");
  expect_error([&] { read_checkpoint(missing); }, {"cannot open", missing});

  const std::string text = scratch("text.pth");
  spit(text, "this is not a zip archive, just some text long enough to search\n");
  expect_error([&] { read_checkpoint(text); }, {text, "not a zip archive"});

  const std::string original = slurp(model("tiny_parity"));
  const std::string truncated = scratch("truncated.pth");
  spit(truncated, original.substr(0, original.size() / 2));
  expect_error([&] { read_checkpoint(truncated); }, {truncated, "truncated zip archive"});
  const std::string cut = scratch("cut.pth");  // the end record survives, the directory does not
  spit(cut, original.substr(0, 20000) + original.substr(original.size() - 200));
  expect_error([&] { read_checkpoint(cut); }, {cut, "truncated zip archive"});

  const std::string no_pickle = scratch("no_pickle.pth");
  spit(no_pickle, zip_bytes({{"archive/data/0", "1234"}, {"archive/version", "3"}}));
  expect_error([&] { read_checkpoint(no_pickle); }, {"checkpoint '" + no_pickle + "'", "no <dir>/data.pkl"});

  const std::string no_state = scratch("no_state.pth");
  spit(no_state, zip_bytes({{"archive/data.pkl", LITERAL(kConfigOnlyPickle)}}));
  expect_error([&] { read_checkpoint(no_state); }, {no_state, "no 'model_state_dict'"});

  const std::string list = scratch("list.pth");
  spit(list, zip_bytes({{"archive/data.pkl", LITERAL(kListPickle)}}));
  expect_error([&] { read_checkpoint(list); }, {list, "the pickle holds a list, not a dict"});

  const std::string lost_storage = scratch("lost_storage.pth");
  spit(lost_storage, zip_bytes({{"archive/data.pkl", LITERAL(kTorchPickle)}}));
  expect_error([&] { read_checkpoint(lost_storage); }, {lost_storage, "no entry 'archive/data/"});

  const std::string deployed = test::reference_path("models/tiny_parity.pt");
  expect_error([&] { read_checkpoint(deployed); }, {deployed, "TorchScript (deployed) model, not a checkpoint"});
}

// ---- the native file -----------------------------------------------------------

void expect_same(const ModelSource& a, const ModelSource& b) {
  EXPECT_EQ(a.config, b.config);
  EXPECT_EQ(a.version, b.version);
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (const auto& [name, t] : a.weights) {
    const Tensor& u = b.weights.at(name);
    EXPECT_EQ(t.shape, u.shape) << name;
    EXPECT_EQ(t.dtype, u.dtype) << name;
    EXPECT_EQ(t.values, u.values) << name;
  }
}

// The 8-byte length and the header of a native file.
json native_header(const std::string& bytes) {
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  return json::parse(bytes.substr(8, n));
}

TEST(CheckpointNative, RoundTripIsExactAndDeterministic) {
  for (const std::string name : {"tiny_parity", "sevennet0_arch", "l3i5_arch"}) {
    const ModelSource original = read_checkpoint(model(name));
    const std::string a = scratch(name + ".a.flashtp"), b = scratch(name + ".b.flashtp");
    write_native(a, original);
    write_native(b, original);
    EXPECT_EQ(slurp(a), slurp(b)) << name;
    EXPECT_TRUE(is_native_file(a));
    const ModelSource back = read_native(a);
    EXPECT_EQ(back.origin, "native");
    expect_same(original, back);
    EXPECT_EQ(native_header(slurp(a))["__metadata__"]["origin"], "checkpoint");
  }
}

TEST(CheckpointNative, SafetensorsLayout) {
  ModelSource source = read_checkpoint(model("tiny_parity"));
  for (auto& [name, t] : source.weights)  // a mix of dtypes: the float64 tensors go first
    if (name.find("weight_nn") != std::string::npos) t.dtype = "float64";
  const std::string path = scratch("mixed.flashtp");
  write_native(path, source);
  const std::string bytes = slurp(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes.compare(8, 36, R"({"__metadata__":{"format":"flashtp",)"), 0);
  const json header = native_header(bytes);
  EXPECT_EQ(json::parse(header["__metadata__"]["config"].get<std::string>()), source.config);
  EXPECT_EQ(header["__metadata__"]["sevenn_version"], "0.12.2");
  EXPECT_EQ(header["__metadata__"]["format_version"], "1");
  std::map<uint64_t, std::pair<uint64_t, std::string>> by_offset;
  for (const auto& [name, entry] : header.items())
    if (name != "__metadata__") by_offset[entry["data_offsets"][0]] = {entry["data_offsets"][1], entry["dtype"]};
  uint64_t end = 0;
  bool seen_f32 = false;
  for (const auto& [begin, info] : by_offset) {
    EXPECT_EQ(begin, end);  // no gaps
    EXPECT_EQ(begin % (info.second == "F64" ? 8 : 4), 0u);
    if (info.second == "F64") EXPECT_FALSE(seen_f32);
    seen_f32 = seen_f32 || info.second == "F32";
    end = info.first;
  }
  EXPECT_EQ(8 + n + end, bytes.size());
  expect_same(source, read_native(path));
  EXPECT_EQ(header["0_convolution.weight_nn.layer0.weight"]["dtype"], "F64");
  EXPECT_EQ(header["0_convolution.weight_nn.layer0.weight"]["shape"], json({8, 16}));
}

TEST(CheckpointNative, LoadsByContent) {
  const std::string path = scratch("by_content.model");
  write_native(path, read_checkpoint(model("tiny_parity")));
  EXPECT_EQ(read_model_source(path).origin, "native");
  EXPECT_EQ(read_model_source(model("tiny_parity")).origin, "checkpoint");
  EXPECT_FALSE(is_native_file(model("tiny_parity")));
  EXPECT_FALSE(is_native_file(scratch("nothing_here")));
}

// A native file from a header string and data bytes.
std::string native(const std::string& header, const std::string& data = "") {
  const uint64_t n = header.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + header + data;
}

TEST(CheckpointNative, ReadingValidates) {
  const std::string meta =
      R"("__metadata__":{"format":"flashtp","format_version":"1","sevenn_version":"0.12.2","config":"{\"cutoff\":4.0}"})";
  const std::string eight(8, '\0');
  const std::string path = scratch("bad.flashtp");
  const auto check = [&](const std::string& bytes, std::initializer_list<std::string> parts) {
    spit(path, bytes);
    expect_error([&] { read_native(path); }, parts);
  };
  spit(path, native("{" + meta + R"(,"t":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", eight));
  EXPECT_EQ(read_native(path).config["cutoff"], 4.0);  // the baseline is valid

  check("abc", {"native model '" + path + "'", "too short"});
  check(std::string("\xff\x00\x00\x00\x00\x00\x00\x00{}", 10), {"header length 255 runs past the end"});
  check(native("{\"__metadata__\":"), {"header is not valid JSON"});
  check(native(R"({"t":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})", "abcd"), {"no __metadata__"});
  check(native(R"({"__metadata__":{"format":"pt"}})"), {"metadata format is 'pt'"});
  check(native(R"({"__metadata__":{"format":"flashtp","format_version":"2"}})"), {"format version '2'"});
  check(native(R"({"__metadata__":{"format":"flashtp","format_version":"1","config":"{}"}})"), {"no 'sevenn_version'"});
  check(native("{" + meta + R"(,"t":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", eight),
        {"tensor 't' has dtype \"I64\""});
  check(native("{" + meta + R"(,"t":{"dtype":"F64","shape":[1],"data_offsets":[0,16]}})", eight),
        {"data_offsets [0, 16] outside the 8 bytes"});
  check(native("{" + meta + R"(,"t":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})", eight),
        {"8 bytes of data, but its shape needs 2 x 8"});
  check(native("{" + meta + R"(,"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight), {"gap or an overlap at byte 4"});
  check(native("{" + meta + R"(,"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight), {"cover 4 of the 8"});
}

TEST(CheckpointNative, WritingValidates) {
  ModelSource s;
  s.weights["counts"] = Tensor{{2}, {1, 2}, "int64"};
  expect_error([&] { write_native(scratch("int.flashtp"), s); }, {"tensor 'counts' has dtype 'int64'"});
  s.weights["counts"] = Tensor{{3}, {1, 2}, "float32"};
  expect_error([&] { write_native(scratch("short.flashtp"), s); }, {"tensor 'counts' has 2 values"});
}

}  // namespace
}  // namespace flashtp::io
