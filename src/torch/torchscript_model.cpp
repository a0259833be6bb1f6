#include "torch/torchscript_model.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/jit/python/update_graph_executor_opt.h>
#include <torch/script.h>

#include "elements.hpp"
#include "error.hpp"
#include "torch/cast_module.hpp"

namespace flashtp {
namespace {

// The extra files SevenNet's deploy writes; pair_e3gnn reads the same list.
const std::vector<std::string> kRequiredMetadata = {"chemical_symbols_to_index", "cutoff", "num_species",
                                                    "model_type", "version", "dtype"};
const std::vector<std::string> kOptionalMetadata = {"flashTP", "oeq", "time"};

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

torch::jit::Module load_module(const std::string& path, torch::jit::ExtraFilesMap& extra_files) {
  if (!std::filesystem::is_regular_file(path)) throw Error("TorchScript model file not found: " + path);
  try {
    return torch::jit::load(path, torch::kCPU, extra_files);
  } catch (const c10::Error& e) {
    throw Error(path + " is not a deployed TorchScript model: LibTorch says " + first_line(e.what_without_backtrace()));
  }
}

double parse_cutoff(const std::string& path, const std::string& text) {
  size_t used = 0;
  double cutoff = 0;
  try {
    cutoff = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (used == 0 || text.find_first_not_of(" \t\n", used) != std::string::npos || !std::isfinite(cutoff) ||
      cutoff <= 0)
    throw Error(path + ": metadata 'cutoff' is not a positive number: '" + text + "'");
  return cutoff;
}

c10::ScalarType parse_dtype(const std::string& path, const std::string& text) {
  if (text == "single") return torch::kFloat32;
  if (text == "double") return torch::kFloat64;
  throw Error(path + ": metadata 'dtype' is '" + text + "', expected 'single' or 'double'");
}

// Whether the code of `block` names the string `key` (as a dict key it reads or writes).
bool mentions(const torch::jit::Block* block, const std::string& key) {
  for (const torch::jit::Node* node : block->nodes()) {
    if (node->kind() == c10::prim::Constant && node->hasAttribute(c10::attr::value) &&
        node->kindOf(c10::attr::value) == torch::jit::AttributeKind::s && node->s(c10::attr::value) == key)
      return true;
    for (const torch::jit::Block* inner : node->blocks())
      if (mentions(inner, key)) return true;
  }
  return false;
}

void check_graph(const Graph& g, int num_species) {
  if (g.num_nodes != g.num_local)
    throw Error("a serial TorchScript model needs a graph without ghost nodes (got " + std::to_string(g.num_local) +
                " local atoms and " + std::to_string(g.num_nodes) + " nodes)");
  if (g.species.size() != static_cast<size_t>(g.num_nodes) || g.neighbor.size() != g.center.size() ||
      g.vec.size() != g.center.size())
    throw Error("inconsistent graph: species, centre, neighbour and vector arrays differ in length");
  for (int n = 0; n < g.num_nodes; ++n)
    if (g.species[n] < 0 || g.species[n] >= num_species)
      throw Error("atom " + std::to_string(n) + " has species index " + std::to_string(g.species[n]) +
                  ", outside the model's " + std::to_string(num_species) + " species");
  for (int64_t e = 0; e < g.num_edges(); ++e)
    if (std::min(g.center[e], g.neighbor[e]) < 0 || std::max(g.center[e], g.neighbor[e]) >= g.num_nodes)
      throw Error("edge " + std::to_string(e) + " names a node outside the graph");
}

// The graph as pair_e3gnn hands it to the model.
struct GraphTensors {
  at::Tensor species;     // num_nodes, int64
  at::Tensor edge_index;  // 2 x E, int64: row 0 centre i, row 1 neighbour j
  at::Tensor edge_vec;    // E x 3, r_j - r_i
  at::Tensor num_atoms;   // {num_nodes}, int64
};

GraphTensors graph_tensors(const Graph& g, c10::ScalarType dtype) {
  static_assert(sizeof(Vec3) == 3 * sizeof(double), "Vec3 must be three packed doubles");
  const int64_t n = g.num_nodes, e = g.num_edges();
  const auto int64 = torch::TensorOptions().dtype(torch::kInt64);
  GraphTensors t;
  t.species = torch::tensor(std::vector<int64_t>(g.species.begin(), g.species.end()), int64);
  t.edge_index = torch::empty({2, e}, int64);
  std::copy(g.center.begin(), g.center.end(), t.edge_index.data_ptr<int64_t>());
  std::copy(g.neighbor.begin(), g.neighbor.end(), t.edge_index.data_ptr<int64_t>() + e);
  t.edge_vec = torch::from_blob(const_cast<Vec3*>(g.vec.data()), {e, 3}, torch::kFloat64).to(dtype, false, true);
  t.num_atoms = torch::full({1}, n, int64);
  return t;
}

std::vector<double> to_doubles(const at::Tensor& t) {
  const at::Tensor d = t.detach().to(torch::kFloat64).contiguous().reshape(-1);
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

void set_energies(const c10::Dict<c10::IValue, c10::IValue>& output, Result& r) {
  r.energy = output.at("inferred_total_energy").toTensor().item<double>();
  r.atomic_energy = to_doubles(output.at("atomic_energy").toTensor());
}

// Forces and virials from dE/d(edge vector): F_i += g, F_j -= g, and
// W_ab = -vec_a g_b, half of it to each end of the edge.
void accumulate_edges(const Graph& g, const std::vector<double>& vec, const std::vector<double>& grad, Result& r) {
  r.forces.assign(g.num_nodes, Vec3{});
  r.atomic_virial.assign(g.num_nodes, Virial{});
  for (int64_t e = 0; e < g.num_edges(); ++e) {
    const double* v = &vec[3 * e];
    const double* d = &grad[3 * e];
    for (int a = 0; a < 3; ++a) {
      r.forces[g.center[e]][a] += d[a];
      r.forces[g.neighbor[e]][a] -= d[a];
    }
    const Virial w = {-v[0] * d[0], -v[1] * d[1], -v[2] * d[2], -v[0] * d[1], -v[0] * d[2], -v[1] * d[2]};
    for (int k = 0; k < 6; ++k) {
      r.virial[k] += w[k];
      r.atomic_virial[g.center[e]][k] += 0.5 * w[k];
      r.atomic_virial[g.neighbor[e]][k] += 0.5 * w[k];
    }
  }
}

Result run_current(torch::jit::Module& module, const Graph& g, const GraphTensors& t) {
  at::Tensor edge_vec = t.edge_vec.detach();
  edge_vec.set_requires_grad(true);
  c10::Dict<std::string, at::Tensor> input;
  input.insert("x", t.species);
  input.insert("edge_index", t.edge_index);
  input.insert("edge_vec", edge_vec);
  input.insert("num_atoms", t.num_atoms);
  input.insert("nlocal", t.num_atoms);
  const auto output = module.forward({input}).toGenericDict();
  const at::Tensor energy = output.at("inferred_total_energy").toTensor().squeeze();
  // allow_unused: a graph without edges has no path from edge_vec to the energy.
  const auto grad = torch::autograd::grad({energy}, {edge_vec}, {}, false, false, true)[0];
  Result r;
  set_energies(output, r);
  accumulate_edges(g, to_doubles(edge_vec), grad.defined() ? to_doubles(grad) : std::vector<double>(3 * g.num_edges()),
                   r);
  return r;
}

// Nodes at the origin, identity cell, unit volume, pbc_shift = edge vector:
// the model's edge vector pos[j] - pos[i] + shift . cell is the graph's, and
// its stress times the volume is the virial.
Result run_legacy(torch::jit::Module& module, const Graph& g, const GraphTensors& t) {
  const auto dtype = t.edge_vec.scalar_type();
  c10::Dict<std::string, at::Tensor> input;
  input.insert("x", t.species);
  input.insert("pos", torch::zeros({g.num_nodes, 3}, dtype).set_requires_grad(true));
  input.insert("edge_index", t.edge_index);
  input.insert("num_atoms", t.num_atoms);
  input.insert("cell_lattice_vectors", torch::eye(3, dtype));
  input.insert("cell_volume", torch::scalar_tensor(1.0, dtype));
  input.insert("pbc_shift", t.edge_vec);
  const auto output = module.forward({input}).toGenericDict();
  Result r;
  set_energies(output, r);
  const auto forces = to_doubles(output.at("inferred_force").toTensor());
  r.forces.resize(g.num_nodes);
  for (int n = 0; n < g.num_nodes; ++n)
    for (int a = 0; a < 3; ++a) r.forces[n][a] = forces[3 * n + a];
  // The model's Voigt order is xx yy zz xy yz zx; ours is xx yy zz xy xz yz.
  const auto s = to_doubles(output.at("inferred_stress").toTensor());
  r.virial = {s[0], s[1], s[2], s[3], s[5], s[4]};
  return r;
}

}  // namespace

struct TorchScriptModel::Impl {
  std::string path;
  std::map<std::string, std::string> metadata;
  std::vector<std::string> species;
  double cutoff = 0;
  c10::ScalarType dtype = torch::kFloat32;
  bool legacy = false;
  std::map<c10::ScalarType, torch::jit::Module> modules;  // by evaluation dtype

  torch::jit::Module& module_for(c10::ScalarType want) {
    auto it = modules.find(want);
    if (it == modules.end()) {
      torch::jit::ExtraFilesMap none;
      it = modules.emplace(want, load_module(path, none)).first;
      cast_floating_point(it->second, want);
    }
    return it->second;
  }
};

TorchScriptModel::TorchScriptModel(const std::string& path) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  torch::jit::ExtraFilesMap extra_files;
  for (const auto& key : kRequiredMetadata) extra_files[key] = "";
  for (const auto& key : kOptionalMetadata) extra_files[key] = "";
  torch::jit::Module module = load_module(path, extra_files);
  for (const auto& [key, value] : extra_files)
    if (!value.empty()) m.metadata[key] = value;
  for (const auto& key : kRequiredMetadata)
    if (!m.metadata.count(key))
      throw Error(path + ": metadata '" + key + "' is missing (an extra file that SevenNet's deploy writes)");

  std::istringstream symbols(m.metadata["chemical_symbols_to_index"]);
  for (std::string s; symbols >> s;) {
    if (atomic_number(s) == 0) throw Error(path + ": unknown element '" + s + "' in chemical_symbols_to_index");
    m.species.push_back(s);
  }
  if (m.metadata["num_species"] != std::to_string(m.species.size()))
    throw Error(path + ": num_species is " + m.metadata["num_species"] + " but chemical_symbols_to_index lists " +
                std::to_string(m.species.size()) + " elements");
  m.cutoff = parse_cutoff(path, m.metadata["cutoff"]);
  m.dtype = parse_dtype(path, m.metadata["dtype"]);
  if (m.metadata["model_type"] != "E3_equivariant_model")
    throw Error(path + ": model_type is '" + m.metadata["model_type"] + "', not E3_equivariant_model");
  for (const char* kernels : {"flashTP", "oeq"})
    if (m.metadata.count(kernels) && m.metadata[kernels] == "yes")
      throw Error(path + " was deployed with " + kernels + " kernels, which plain LibTorch cannot run");

  m.legacy = mentions(module.get_method("forward").graph()->block(), "pbc_shift");
  m.modules.emplace(m.dtype, std::move(module));
  // As pair_e3gnn: run the graph as written (a process-wide LibTorch setting).
  torch::jit::setGraphExecutorOptimize(false);
}

TorchScriptModel::~TorchScriptModel() = default;
TorchScriptModel::TorchScriptModel(TorchScriptModel&&) noexcept = default;
TorchScriptModel& TorchScriptModel::operator=(TorchScriptModel&&) noexcept = default;

const std::map<std::string, std::string>& TorchScriptModel::metadata() const { return impl_->metadata; }
const std::vector<std::string>& TorchScriptModel::species() const { return impl_->species; }
double TorchScriptModel::cutoff() const { return impl_->cutoff; }
bool TorchScriptModel::is_legacy() const { return impl_->legacy; }
c10::ScalarType TorchScriptModel::dtype() const { return impl_->dtype; }

int TorchScriptModel::species_index(const std::string& element) const {
  const auto it = std::find(impl_->species.begin(), impl_->species.end(), element);
  return it == impl_->species.end() ? -1 : static_cast<int>(it - impl_->species.begin());
}

Result TorchScriptModel::evaluate(const Graph& g) const { return evaluate(g, impl_->dtype); }

Result TorchScriptModel::evaluate(const Graph& g, c10::ScalarType dtype) const {
  if (dtype != torch::kFloat32 && dtype != torch::kFloat64)
    throw Error("a TorchScript model evaluates in float32 or float64 only");
  check_graph(g, static_cast<int>(impl_->species.size()));
  if (g.num_nodes == 0) return Result{};
  try {
    torch::jit::Module& module = impl_->module_for(dtype);
    const c10::AutoGradMode grad_mode(true);
    const GraphTensors t = graph_tensors(g, dtype);
    return impl_->legacy ? run_legacy(module, g, t) : run_current(module, g, t);
  } catch (const c10::Error& e) {
    throw Error(impl_->path + ": the TorchScript model failed: " + first_line(e.what_without_backtrace()));
  }
}

}  // namespace flashtp
