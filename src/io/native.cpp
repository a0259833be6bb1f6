#include "io/native.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "error.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "native model data is little-endian");

namespace flashtp::io {
namespace {

using nlohmann::json;
constexpr const char* kFormat = "flashtp";
constexpr const char* kFormatVersion = "1";

int element_size(const std::string& dtype) { return dtype == "float64" ? 8 : 4; }

std::string header_dtype(const std::string& dtype) { return dtype == "float64" ? "F64" : "F32"; }

uint64_t read_u64(const std::string& bytes) {
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  return n;
}

// ---- reading -----------------------------------------------------------------

struct Reader {
  const std::string& path;
  [[noreturn]] void fail(const std::string& what) const { throw Error("native model '" + path + "': " + what); }

  const std::string& metadata_string(const json& metadata, const char* key) const {
    auto it = metadata.find(key);
    if (it == metadata.end()) fail(std::string("the metadata has no '") + key + "'");
    if (!it->is_string()) fail(std::string("the metadata's '") + key + "' is not a string");
    return it->get_ref<const std::string&>();
  }

  std::vector<int64_t> shape(const std::string& name, const json& entry) const {
    auto it = entry.find("shape");
    if (it == entry.end() || !it->is_array()) fail("tensor '" + name + "' has no shape");
    std::vector<int64_t> out;
    for (const auto& d : *it) {
      if (!d.is_number_unsigned()) fail("tensor '" + name + "' has a shape entry that is not a non-negative integer");
      out.push_back(d.get<int64_t>());
    }
    return out;
  }

  // One tensor of the header, its bytes at data[begin, end).
  Tensor tensor(const std::string& name, const json& entry, const std::string& data, uint64_t& begin, uint64_t& end) const {
    if (!entry.is_object()) fail("header entry '" + name + "' is not an object");
    auto dtype = entry.find("dtype");
    if (dtype == entry.end() || !dtype->is_string() || (*dtype != "F32" && *dtype != "F64"))
      fail("tensor '" + name + "' has dtype " + (dtype == entry.end() ? std::string("(none)") : dtype->dump()) +
           ", expected \"F32\" or \"F64\"");
    Tensor t;
    t.dtype = *dtype == "F64" ? "float64" : "float32";
    t.shape = shape(name, entry);
    auto offsets = entry.find("data_offsets");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
      fail("tensor '" + name + "' has no data_offsets [begin, end]");
    begin = (*offsets)[0].get<uint64_t>();
    end = (*offsets)[1].get<uint64_t>();
    if (begin > end || end > data.size())
      fail("tensor '" + name + "' has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
           "] outside the " + std::to_string(data.size()) + " bytes of data");
    const int width = element_size(t.dtype);
    uint64_t numel = 1, bytes = 0;
    for (int64_t d : t.shape)
      if (__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel)) fail("tensor '" + name + "' is too large");
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(width), &bytes) || bytes != end - begin)
      fail("tensor '" + name + "' has " + std::to_string(end - begin) + " bytes of data, but its shape needs " +
           std::to_string(numel) + " x " + std::to_string(width));
    t.values.resize(numel);
    const char* p = data.data() + begin;
    for (uint64_t k = 0; k < numel; ++k) {
      if (width == 8) {
        std::memcpy(&t.values[k], p + 8 * k, 8);
      } else {
        float f;
        std::memcpy(&f, p + 4 * k, 4);
        t.values[k] = f;
      }
    }
    return t;
  }

  ModelSource read() const {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open native model '" + path + "'");
    const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (file.size() < 8) fail("the file is too short to hold a header (" + std::to_string(file.size()) + " bytes)");
    const uint64_t n = read_u64(file);
    if (n > file.size() - 8)
      fail("the header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(file.size()) +
           " bytes)");
    json header;
    try {
      header = json::parse(file.begin() + 8, file.begin() + 8 + static_cast<std::ptrdiff_t>(n));
    } catch (const json::parse_error& e) {
      fail(std::string("the header is not valid JSON (") + e.what() + ")");
    }
    if (!header.is_object()) fail("the header is not a JSON object");
    auto metadata = header.find("__metadata__");
    if (metadata == header.end() || !metadata->is_object()) fail("the header has no __metadata__: not a flashtp model");
    const std::string& format = metadata_string(*metadata, "format");
    if (format != kFormat) fail("the metadata format is '" + format + "', not '" + kFormat + "'");
    const std::string& version = metadata_string(*metadata, "format_version");
    if (version != kFormatVersion)
      fail("format version '" + version + "' is not supported (this build reads version " + kFormatVersion + ")");

    ModelSource source;
    source.origin = "native";
    source.version = metadata_string(*metadata, "sevenn_version");
    try {
      source.config = json::parse(metadata_string(*metadata, "config"));
    } catch (const json::parse_error& e) {
      fail(std::string("the metadata's config is not valid JSON (") + e.what() + ")");
    }
    if (!source.config.is_object()) fail("the metadata's config is not a JSON object");

    // Every data byte belongs to exactly one tensor: no gaps, no overlaps.
    const std::string data = file.substr(8 + n);
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const auto& [name, entry] : header.items()) {
      if (name == "__metadata__") continue;
      uint64_t begin = 0, end = 0;
      source.weights[name] = tensor(name, entry, data, begin, end);
      ranges.emplace_back(begin, end);
    }
    std::sort(ranges.begin(), ranges.end());
    uint64_t covered = 0;
    for (const auto& [begin, end] : ranges) {
      if (begin != covered) fail("the tensor data has a gap or an overlap at byte " + std::to_string(begin));
      covered = end;
    }
    if (covered != data.size())
      fail("the tensors cover " + std::to_string(covered) + " of the " + std::to_string(data.size()) + " data bytes");
    return source;
  }
};

}  // namespace

void write_native(const std::string& path, const ModelSource& source) {
  const auto fail = [&](const std::string& what) { throw Error("cannot write native model '" + path + "': " + what); };
  for (const auto& [name, t] : source.weights) {
    if (t.dtype != "float32" && t.dtype != "float64")
      fail("tensor '" + name + "' has dtype '" + t.dtype + "' (the format stores float32 and float64)");
    if (static_cast<int64_t>(t.values.size()) != t.numel() ||
        std::any_of(t.shape.begin(), t.shape.end(), [](int64_t d) { return d < 0; }))
      fail("tensor '" + name + "' has " + std::to_string(t.values.size()) + " values for its shape");
  }

  // Data order: float64 then float32 tensors, by name within each (see native.hpp).
  std::map<std::string, std::pair<uint64_t, uint64_t>> offsets;
  std::string data;
  for (const char* dtype : {"float64", "float32"})
    for (const auto& [name, t] : source.weights) {
      if (t.dtype != dtype) continue;
      const uint64_t begin = data.size();
      for (double v : t.values) {
        if (t.dtype == "float64") {
          data.append(reinterpret_cast<const char*>(&v), 8);
        } else {
          const float f = static_cast<float>(v);
          data.append(reinterpret_cast<const char*>(&f), 4);
        }
      }
      offsets[name] = {begin, data.size()};
    }

  nlohmann::ordered_json header;  // insertion order: metadata first, then tensors by name
  header["__metadata__"] = {{"format", kFormat},
                            {"format_version", kFormatVersion},
                            {"sevenn_version", source.version},
                            {"origin", source.origin},
                            {"config", source.config.dump()}};
  for (const auto& [name, t] : source.weights)
    header[name] = {{"dtype", header_dtype(t.dtype)},
                    {"shape", t.shape},
                    {"data_offsets", {offsets[name].first, offsets[name].second}}};
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // so the data starts 8-aligned

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail("cannot open it for writing");
  const uint64_t n = text.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << text << data;
  out.close();
  if (!out) fail("write error");
}

ModelSource read_native(const std::string& path) { return Reader{path}.read(); }

bool is_native_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return false;
  const auto size = static_cast<uint64_t>(in.tellg());
  std::string head(8, '\0');
  if (size < 10 || !in.seekg(0).read(head.data(), 8)) return false;
  const uint64_t n = read_u64(head);
  constexpr uint64_t kMaxHeader = 100u << 20;  // the limit safetensors readers apply
  if (n < 2 || n > size - 8 || n > kMaxHeader) return false;
  std::string header(n, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(n))) return false;
  return header[0] == '{' && header.find("\"format\":\"flashtp\"") != std::string::npos;
}

}  // namespace flashtp::io
