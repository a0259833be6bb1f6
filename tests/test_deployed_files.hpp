// Test files made from the real ones: a zip rewritten with some entries
// changed, added or removed (stored, with correct CRCs, as torch writes
// them), and files cut short or with a byte flipped.
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "io/zip.hpp"

namespace flashtp::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A fresh directory under the system's temporary directory, this process's
// own (ctest runs the tests as processes side by side, which once removed
// each other's files), removed when the process exits.
inline std::string temp_dir(const std::string& name) {
  struct Made {
    std::vector<std::filesystem::path> dirs;
    ~Made() {
      std::error_code ignored;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ignored);
    }
  };
  static Made made;
  const auto dir = std::filesystem::temp_directory_path() / ("flashtp_" + name + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  made.dirs.push_back(dir);
  return dir.string();
}

inline uint32_t crc32(const std::string& data) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// Writes the entries of `from` to `to`, each passed through `edit(name,
// bytes)`: return false to drop the entry. `extra` entries are appended.
inline void rewrite_zip(const std::string& from, const std::string& to,
                        const std::function<bool(const std::string&, std::string&)>& edit,
                        const std::map<std::string, std::string>& extra = {}) {
  const io::ZipArchive zip(from);
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& name : zip.names()) {
    std::string bytes = zip.read(name);
    if (edit(name, bytes)) entries.emplace_back(name, bytes);
  }
  for (const auto& e : extra) entries.push_back(e);
  std::string out, directory;
  auto u16 = [](std::string& s, uint16_t v) { s.append({char(v & 0xff), char(v >> 8)}); };
  auto u32 = [&](std::string& s, uint32_t v) {
    u16(s, uint16_t(v & 0xffff));
    u16(s, uint16_t(v >> 16));
  };
  for (const auto& [name, bytes] : entries) {
    const uint32_t offset = static_cast<uint32_t>(out.size()), crc = crc32(bytes), size = static_cast<uint32_t>(bytes.size());
    u32(out, 0x04034b50);  // local file header, stored, no data descriptor
    u16(out, 20), u16(out, 0), u16(out, 0), u16(out, 0), u16(out, 0);
    u32(out, crc), u32(out, size), u32(out, size);
    u16(out, uint16_t(name.size())), u16(out, 0);
    out += name + bytes;
    u32(directory, 0x02014b50);  // central directory entry
    u16(directory, 20), u16(directory, 20), u16(directory, 0), u16(directory, 0), u16(directory, 0), u16(directory, 0);
    u32(directory, crc), u32(directory, size), u32(directory, size);
    u16(directory, uint16_t(name.size())), u16(directory, 0), u16(directory, 0), u16(directory, 0), u16(directory, 0);
    u32(directory, 0), u32(directory, offset);
    directory += name;
  }
  const uint32_t start = static_cast<uint32_t>(out.size());
  out += directory;
  u32(out, 0x06054b50);  // end of central directory
  u16(out, 0), u16(out, 0), u16(out, uint16_t(entries.size())), u16(out, uint16_t(entries.size()));
  u32(out, static_cast<uint32_t>(directory.size())), u32(out, start), u16(out, 0);
  write_file(to, out);
}

}  // namespace flashtp::test
