// A read-only ZIP archive: what torch.save and torch.jit.save write.
//
// The whole file is read into memory (model files are megabytes). Entries may
// be stored or deflated; ZIP64 records are honoured; every entry's CRC-32 is
// checked when it is read.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace flashtp::io {

class ZipArchive {
 public:
  // Throws flashtp::Error naming the file: cannot open, not a zip archive,
  // truncated, or a malformed central directory.
  explicit ZipArchive(const std::string& path);

  const std::string& path() const { return path_; }
  const std::vector<std::string>& names() const { return names_; }  // central directory order
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  uint64_t size(const std::string& name) const;  // uncompressed size in bytes

  // The entry's uncompressed bytes. Throws flashtp::Error if it is missing,
  // truncated, corrupt or compressed with a method other than stored/deflate.
  std::string read(const std::string& name) const;

 private:
  struct Entry {
    uint16_t flags = 0, method = 0;
    uint32_t crc = 0;
    uint64_t compressed = 0, uncompressed = 0, local_header = 0;
  };
  const Entry& entry(const std::string& name) const;
  void read_central_directory();

  std::string path_;
  std::string data_;  // the whole file
  std::vector<std::string> names_;
  std::map<std::string, Entry> entries_;
};

}  // namespace flashtp::io
