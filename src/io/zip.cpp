#include "io/zip.hpp"

#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <limits>

#include "error.hpp"

namespace flashtp::io {
namespace {

// Record signatures (APPNOTE.TXT 4.3).
constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEnd = 0x06054b50;
constexpr uint32_t kEnd64 = 0x06064b50;
constexpr uint32_t kEnd64Locator = 0x07064b50;
constexpr uint64_t kEndSize = 22, kEnd64LocatorSize = 20, kLocalHeaderSize = 30;
constexpr uint16_t kZip64Extra = 0x0001;

// Little-endian fields read from a position of the file; running past its
// end means the archive was cut short.
class Cursor {
 public:
  Cursor(const std::string& data, uint64_t pos, const std::string& path) : data_(data), pos_(pos), path_(path) {}
  uint64_t pos() const { return pos_; }
  uint16_t u16() { return static_cast<uint16_t>(le(2)); }
  uint32_t u32() { return static_cast<uint32_t>(le(4)); }
  uint64_t u64() { return le(8); }
  void skip(uint64_t n) {
    need(n);
    pos_ += n;
  }
  std::string bytes(uint64_t n) {
    need(n);
    pos_ += n;
    return data_.substr(pos_ - n, n);
  }

 private:
  void need(uint64_t n) const {
    if (pos_ > data_.size() || n > data_.size() - pos_)
      throw Error("'" + path_ + "': truncated zip archive (a record runs past the end of the file)");
  }
  uint64_t le(int n) {
    need(n);
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(data_[pos_ + k]);
    pos_ += n;
    return v;
  }
  const std::string& data_;
  uint64_t pos_;
  const std::string& path_;
};

uint32_t signature_at(const std::string& data, uint64_t pos, const std::string& path) {
  return Cursor(data, pos, path).u32();
}

// Raw deflate (no zlib header) into exactly `size` bytes. zlib counts in
// 32-bit chunks, so large entries go through in slices.
bool inflate_raw(const char* in, uint64_t in_size, std::string& out) {
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return false;
  constexpr uint64_t kSlice = std::numeric_limits<uInt>::max();
  uint64_t consumed = 0, produced = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in + consumed));
    z.avail_in = static_cast<uInt>(std::min(in_size - consumed, kSlice));
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(std::min(out.size() - produced, kSlice));
    const uInt in_before = z.avail_in, out_before = z.avail_out;
    rc = inflate(&z, Z_NO_FLUSH);
    consumed += in_before - z.avail_in;
    produced += out_before - z.avail_out;
    if (rc == Z_OK && in_before == z.avail_in && out_before == z.avail_out) break;  // no progress
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END && produced == out.size();
}

}  // namespace

ZipArchive::ZipArchive(const std::string& path) : path_(path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open '" + path + "'");
  data_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error("cannot read '" + path + "'");
  read_central_directory();
}

void ZipArchive::read_central_directory() {
  // The end-of-central-directory record is the last 22 bytes, followed only by
  // an archive comment of up to 65535 bytes: search backwards for it.
  const uint64_t size = data_.size();
  uint64_t end = std::numeric_limits<uint64_t>::max();
  if (size >= kEndSize) {
    const uint64_t lowest = size - kEndSize > 0xffff ? size - kEndSize - 0xffff : 0;
    for (uint64_t p = size - kEndSize + 1; p-- > lowest;)
      if (signature_at(data_, p, path_) == kEnd) {
        end = p;
        break;
      }
  }
  if (end == std::numeric_limits<uint64_t>::max()) {
    const bool starts_like_zip = size >= 4 && signature_at(data_, 0, path_) == kLocalHeader;
    throw Error("'" + path_ + "': " +
                (starts_like_zip ? "truncated zip archive (no end-of-central-directory record: the file was cut short)"
                                 : "not a zip archive (no end-of-central-directory record)"));
  }

  Cursor eocd(data_, end + 4, path_);
  uint64_t disk = eocd.u16(), directory_disk = eocd.u16();
  eocd.skip(2);  // entries on this disk
  uint64_t count = eocd.u16();
  uint64_t directory_size = eocd.u32();
  uint64_t directory_offset = eocd.u32();

  // ZIP64: a locator right before the record points at a 64-bit version of it
  // (PyTorch always writes one). Its values take precedence.
  if (end >= kEnd64LocatorSize && signature_at(data_, end - kEnd64LocatorSize, path_) == kEnd64Locator) {
    Cursor locator(data_, end - kEnd64LocatorSize + 8, path_);
    const uint64_t record = locator.u64();
    if (signature_at(data_, record, path_) != kEnd64)
      throw Error("'" + path_ + "': corrupt zip archive (the ZIP64 locator points at no ZIP64 record)");
    Cursor eocd64(data_, record + 4 + 8 + 2 + 2, path_);  // past signature, record size, versions
    disk = eocd64.u32();
    directory_disk = eocd64.u32();
    eocd64.skip(8);  // entries on this disk
    count = eocd64.u64();
    directory_size = eocd64.u64();
    directory_offset = eocd64.u64();
  }
  if (disk != 0 || directory_disk != 0) throw Error("'" + path_ + "': multi-volume zip archives are not supported");
  if (directory_offset > end || directory_size > end - directory_offset)
    throw Error("'" + path_ + "': truncated zip archive (the central directory lies outside the file)");

  Cursor c(data_, directory_offset, path_);
  for (uint64_t k = 0; k < count; ++k) {
    if (c.u32() != kCentralHeader)
      throw Error("'" + path_ + "': corrupt zip archive (central directory entry " + std::to_string(k) +
                  " has a bad signature)");
    Entry e;
    c.skip(4);  // versions made by / needed
    e.flags = c.u16();
    e.method = c.u16();
    c.skip(4);  // time, date
    e.crc = c.u32();
    e.compressed = c.u32();
    e.uncompressed = c.u32();
    const uint16_t name_length = c.u16(), extra_length = c.u16(), comment_length = c.u16();
    c.skip(8);  // disk, internal and external attributes
    e.local_header = c.u32();
    std::string name = c.bytes(name_length);
    // A ZIP64 extra field holds, in this order, only those of the three
    // values whose 32-bit field above is 0xffffffff.
    const uint64_t extra_end = c.pos() + extra_length;
    while (c.pos() + 4 <= extra_end) {
      const uint16_t id = c.u16(), length = c.u16();
      const uint64_t next = c.pos() + length;
      if (id == kZip64Extra) {
        if (e.uncompressed == 0xffffffffu) e.uncompressed = c.u64();
        if (e.compressed == 0xffffffffu) e.compressed = c.u64();
        if (e.local_header == 0xffffffffu) e.local_header = c.u64();
      }
      c.skip(next - c.pos());
    }
    c.skip(extra_end - c.pos() + comment_length);
    if (entries_.emplace(name, e).second) names_.push_back(std::move(name));
  }
}

const ZipArchive::Entry& ZipArchive::entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw Error("'" + path_ + "': zip archive has no entry '" + name + "'");
  return it->second;
}

uint64_t ZipArchive::size(const std::string& name) const { return entry(name).uncompressed; }

std::string ZipArchive::read(const std::string& name) const {
  const Entry& e = entry(name);
  const std::string where = "'" + path_ + "': zip entry '" + name + "'";
  if (e.flags & 1) throw Error(where + " is encrypted");
  if (e.method != 0 && e.method != 8)
    throw Error(where + " uses compression method " + std::to_string(e.method) + " (only stored and deflate are supported)");

  // The local header repeats the name and has its own extra field (PyTorch
  // pads it to align the data); its sizes may be zero when a data descriptor
  // follows, so those come from the central directory.
  Cursor local(data_, e.local_header, path_);
  if (local.u32() != kLocalHeader) throw Error(where + " has no local header at offset " + std::to_string(e.local_header));
  local.skip(kLocalHeaderSize - 8);
  const uint16_t name_length = local.u16(), extra_length = local.u16();
  local.skip(name_length + extra_length);
  const uint64_t begin = local.pos();
  if (begin > data_.size() || e.compressed > data_.size() - begin)
    throw Error("'" + path_ + "': truncated zip archive (entry '" + name + "' runs past the end of the file)");
  const char* raw = data_.data() + begin;

  std::string out;
  if (e.method == 0) {
    if (e.compressed != e.uncompressed) throw Error(where + " is stored but its sizes disagree");
    out.assign(raw, e.compressed);
  } else {
    out.assign(e.uncompressed, '\0');
    if (!inflate_raw(raw, e.compressed, out)) throw Error(where + " is corrupt (deflate stream does not inflate)");
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (uint64_t done = 0; done < out.size();) {  // crc32 takes 32-bit lengths
    const uInt n = static_cast<uInt>(std::min<uint64_t>(out.size() - done, std::numeric_limits<uInt>::max()));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(out.data() + done), n);
    done += n;
  }
  if (crc != e.crc) throw Error(where + " is corrupt (CRC-32 mismatch)");
  return out;
}

}  // namespace flashtp::io
