// flashtp's own model file: a valid safetensors file (so any safetensors
// reader can inspect it) with the SevenNet config in its metadata.
//
//   8 bytes   N, little-endian uint64: the header length
//   N bytes   JSON header, padded with spaces to a multiple of 8:
//             {"__metadata__": {"format": "flashtp", "format_version": "1",
//                               "sevenn_version": ..., "origin": ...,
//                               "config": "<the config as a JSON string>"},
//              "<tensor name>": {"dtype": "F32" | "F64", "shape": [...],
//                                "data_offsets": [begin, end]}, ...}
//   the rest  tensor bytes, little-endian, row-major, offsets relative to here
//
// Each tensor keeps its dtype on disk. The data holds no gaps (safetensors
// forbids them): float64 tensors come first, then float32, each group in name
// order, so every tensor is aligned to its element size (the data starts
// 8-aligned). Writing is deterministic: the same source gives the same bytes.
// "origin" in the metadata records what the model was converted from;
// read_native reports origin "native".
#pragma once
#include <string>

#include "io/model_source.hpp"

namespace flashtp::io {

// Throws flashtp::Error if a tensor is not float32/float64 or its values do
// not match its shape, or the file cannot be written.
void write_native(const std::string& path, const ModelSource& source);

// Validates the layout (header length, JSON, metadata, dtypes, shapes,
// offsets); throws flashtp::Error naming the file and the problem.
ModelSource read_native(const std::string& path);

// A cheap sniff: a plausible header length, then a JSON header that mentions
// "format":"flashtp". Never throws.
bool is_native_file(const std::string& path);

}  // namespace flashtp::io
