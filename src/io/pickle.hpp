// A pickle machine for what torch.save writes (pickle protocols 2 to 5),
// without running any Python: the result is a tree of plain values.
//
// Python values map to Kinds: None, bool, int (up to 64 bits), float, str,
// bytes, list, tuple, dict (any hashable keys, insertion order kept). Calls of
// a few globals are understood:
//   collections.OrderedDict             -> Dict (BUILD attributes dropped)
//   builtins.set / frozenset, EMPTY_SET -> List
//   _codecs.encode(text, 'latin1')      -> Bytes (how protocol 2 writes bytes)
//   torch.device(type[, index])         -> String "type" / "type:index"
//   numpy scalar(dtype, bytes)          -> Bool, Int or Float
//   torch._utils._rebuild_tensor_v2     -> Tensor, read at once (see below)
//   torch._utils._rebuild_parameter     -> its Tensor
// Any other call (or NEWOBJ) stays an opaque Object: the callable's name, its
// arguments, what SETITEMS/APPENDS/BUILD gave it. Nothing fails on an unknown
// global; the caller decides whether a value it needs is usable.
//
// Tensors: torch.save replaces each storage by a persistent id
// ('storage', torch.FloatStorage, key, location, numel) whose raw little-endian
// bytes the caller supplies by key (a torch zip holds them as <dir>/data/<key>).
// The tensor view (offset, size, stride) is copied out contiguous, row-major,
// widened to double; Tensor::dtype names the storage's element type
// ("float32", "float64", "float16", "bfloat16", "int64", ..., "bool").
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/model_source.hpp"

namespace flashtp::io::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;  // pickles share objects through the memo

struct Value {
  enum class Kind { None, Bool, Int, Float, String, Bytes, List, Tuple, Dict, Global, Object, PersistentId, Tensor };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string text;                                    // String, Bytes; Global, Object: "module.name"
  std::vector<ValuePtr> items;                         // List, Tuple, PersistentId; Object: appended items
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;  // Dict; Object: items set on it
  ValuePtr args, state;                                // Object: the call's argument tuple, BUILD's state
  Tensor tensor;                                       // Tensor

  // The value of a str key of a Dict, nullptr if there is none.
  const Value* find(const std::string& key) const;
  // "an int", "a dict", "a torch.device object", ... for error messages.
  std::string describe() const;
};

// The raw bytes of the storage with this key (throws if it has none).
using StorageReader = std::function<std::string(const std::string& key)>;

// Throws flashtp::Error ("pickle: ...") on malformed input, an opcode outside
// protocols 2-5, or a tensor that does not fit its storage.
ValuePtr load(const std::string& pickle, const StorageReader& read_storage);

}  // namespace flashtp::io::pickle
