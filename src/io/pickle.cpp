#include "io/pickle.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "error.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "pickle floats and tensor storages are decoded as little-endian");

namespace flashtp::io::pickle {

using Kind = Value::Kind;

// ---- values ------------------------------------------------------------------

const Value* Value::find(const std::string& key) const {
  if (kind != Kind::Dict) return nullptr;
  for (const auto& [k, v] : entries)
    if (k->kind == Kind::String && k->text == key) return v.get();
  return nullptr;
}

std::string Value::describe() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "a bool";
    case Kind::Int: return "an int";
    case Kind::Float: return "a float";
    case Kind::String: return "a string";
    case Kind::Bytes: return "bytes";
    case Kind::List: return "a list";
    case Kind::Tuple: return "a tuple";
    case Kind::Dict: return "a dict";
    case Kind::Global: return "the global " + text;
    case Kind::Object: return "a " + text + " object";
    case Kind::PersistentId: return "a persistent id";
    case Kind::Tensor: return "a " + tensor.dtype + " tensor";
  }
  return "?";
}

namespace {

ValuePtr make(Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}
ValuePtr make_int(int64_t i) {
  auto v = make(Kind::Int);
  v->integer = i;
  return v;
}
ValuePtr make_text(Kind kind, std::string s) {
  auto v = make(kind);
  v->text = std::move(s);
  return v;
}

// Python's dict assignment: an equal scalar key (or the same object) is replaced.
bool same_key(const Value& a, const Value& b) {
  if (&a == &b) return true;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::None: return true;
    case Kind::Bool: return a.boolean == b.boolean;
    case Kind::Int: return a.integer == b.integer;
    case Kind::Float: return a.number == b.number;
    case Kind::String:
    case Kind::Bytes:
    case Kind::Global: return a.text == b.text;
    default: return false;
  }
}
void set_item(Value& dict, ValuePtr key, ValuePtr value) {
  for (auto& entry : dict.entries)
    if (same_key(*entry.first, *key)) {
      entry.second = std::move(value);
      return;
    }
  dict.entries.emplace_back(std::move(key), std::move(value));
}

[[noreturn]] void fail(const std::string& what) { throw Error("pickle: " + what); }

const std::vector<ValuePtr>& tuple_items(const Value& v, const std::string& what) {
  if (v.kind != Kind::Tuple && v.kind != Kind::List) fail(what + " is " + v.describe() + ", not a tuple");
  return v.items;
}
int64_t int_of(const Value& v, const std::string& what) {
  if (v.kind != Kind::Int) fail(what + " is " + v.describe() + ", not an int");
  return v.integer;
}
const std::string& string_of(const Value& v, const std::string& what) {
  if (v.kind != Kind::String) fail(what + " is " + v.describe() + ", not a string");
  return v.text;
}

// ---- element decoding (tensor storages and numpy scalars) ------------------

uint64_t load_le(const char* p, int size) {
  uint64_t u = 0;
  std::memcpy(&u, p, size);  // little-endian host (asserted above)
  return u;
}
int64_t sign_extend(uint64_t u, int size) {
  const int shift = 64 - 8 * size;
  return static_cast<int64_t>(u << shift) >> shift;
}
double half_to_double(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double v = exponent == 0    ? std::ldexp(mantissa, -24)  // subnormal
             : exponent == 31 ? (mantissa ? NAN : INFINITY)
                              : std::ldexp(mantissa + 1024, exponent - 25);
  return (h & 0x8000) ? -v : v;
}

// numpy's kind letters: f float, i signed, u unsigned, b bool; plus B for bfloat16.
struct Element {
  char kind;
  int size;
  bool valid() const {
    if (kind == 'f') return size == 2 || size == 4 || size == 8;
    if (kind == 'b') return size == 1;
    return (kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8);
  }
};
double decode(const char* p, Element e) {
  const uint64_t u = load_le(p, e.size);
  switch (e.kind) {
    case 'f':
      if (e.size == 2) return half_to_double(static_cast<uint16_t>(u));
      if (e.size == 4) {
        float f;
        std::memcpy(&f, p, 4);
        return f;
      } else {
        double d;
        std::memcpy(&d, p, 8);
        return d;
      }
    case 'B': {
      const uint32_t bits = static_cast<uint32_t>(u) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case 'i': return static_cast<double>(sign_extend(u, e.size));
    case 'b': return u != 0 ? 1.0 : 0.0;
    default: return static_cast<double>(u);
  }
}

struct StorageType {
  const char* global;  // torch's legacy typed-storage class that names the dtype
  const char* dtype;
  Element element;
};
constexpr StorageType kStorageTypes[] = {
    {"torch.FloatStorage", "float32", {'f', 4}}, {"torch.DoubleStorage", "float64", {'f', 8}},
    {"torch.HalfStorage", "float16", {'f', 2}},  {"torch.BFloat16Storage", "bfloat16", {'B', 2}},
    {"torch.LongStorage", "int64", {'i', 8}},    {"torch.IntStorage", "int32", {'i', 4}},
    {"torch.ShortStorage", "int16", {'i', 2}},   {"torch.CharStorage", "int8", {'i', 1}},
    {"torch.ByteStorage", "uint8", {'u', 1}},    {"torch.BoolStorage", "bool", {'b', 1}},
};

// ---- torch and numpy globals -----------------------------------------------

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
// backward_hooks[, metadata]); the storage is the persistent id
// ('storage', <storage type>, key, location, numel).
ValuePtr rebuild_tensor(const std::vector<ValuePtr>& args, const StorageReader& read_storage) {
  if (args.size() < 4) fail("_rebuild_tensor_v2 takes at least 4 arguments, got " + std::to_string(args.size()));
  const Value& pid = *args[0];
  if (pid.kind != Kind::PersistentId || pid.items.size() != 5 || pid.items[0]->kind != Kind::String ||
      pid.items[0]->text != "storage" || pid.items[1]->kind != Kind::Global)
    fail("a tensor's storage is " + pid.describe() + ", not a persistent id ('storage', type, key, location, numel)");
  const std::string& key = string_of(*pid.items[2], "a storage key");
  const int64_t storage_numel = int_of(*pid.items[4], "the size of storage '" + key + "'");
  const StorageType* type = nullptr;
  for (const auto& t : kStorageTypes)
    if (pid.items[1]->text == t.global) type = &t;
  if (!type) fail("storage '" + key + "' has the unsupported type " + pid.items[1]->text);

  const std::string where = "tensor in storage '" + key + "'";
  const int64_t offset = int_of(*args[1], "the offset of a " + where);
  const auto& size = tuple_items(*args[2], "the size of a " + where);
  const auto& stride = tuple_items(*args[3], "the stride of a " + where);
  if (size.size() != stride.size()) fail("a " + where + " has " + std::to_string(size.size()) + " sizes but " +
                                         std::to_string(stride.size()) + " strides");
  Tensor t;
  t.dtype = type->dtype;
  std::vector<int64_t> strides;
  int64_t numel = 1, last = offset;  // `last`: the storage index of the last element
  for (size_t d = 0; d < size.size(); ++d) {
    const int64_t n = int_of(*size[d], "a size of a " + where), s = int_of(*stride[d], "a stride of a " + where);
    if (n < 0 || s < 0) fail("a " + where + " has a negative size or stride");
    t.shape.push_back(n);
    strides.push_back(s);
    int64_t span = 0;
    if (__builtin_mul_overflow(numel, n, &numel) || (n > 0 && __builtin_mul_overflow(n - 1, s, &span)) ||
        __builtin_add_overflow(last, span, &last))
      fail("a " + where + " is too large");
  }
  if (offset < 0 || (numel > 0 && last >= storage_numel))
    fail("a " + where + " (offset " + std::to_string(offset) + ") reaches past the storage's " +
         std::to_string(storage_numel) + " elements");

  const std::string bytes = read_storage(key);
  const int width = type->element.size;
  int64_t storage_bytes = 0;
  if (storage_numel < 0 || __builtin_mul_overflow(storage_numel, width, &storage_bytes) ||
      static_cast<int64_t>(bytes.size()) != storage_bytes)
    fail("storage '" + key + "' has " + std::to_string(bytes.size()) + " bytes, expected " +
         std::to_string(storage_numel) + " x " + std::to_string(width));
  // Walk the view in row-major order with an odometer over the indices.
  t.values.resize(numel);
  std::vector<int64_t> index(size.size(), 0);
  int64_t at = offset;
  for (int64_t k = 0; k < numel; ++k) {
    t.values[k] = decode(bytes.data() + at * width, type->element);
    for (size_t d = size.size(); d-- > 0;) {
      if (++index[d] < t.shape[d]) {
        at += strides[d];
        break;
      }
      at -= strides[d] * (t.shape[d] - 1);
      index[d] = 0;
    }
  }
  auto v = make(Kind::Tensor);
  v->tensor = std::move(t);
  return v;
}

// numpy.core.multiarray.scalar(dtype, raw bytes), where the dtype is
// numpy.dtype('f8', False, True) with BUILD state (3, '<', ...).
ValuePtr numpy_scalar(const std::vector<ValuePtr>& args) {
  if (args.size() != 2 || args[0]->kind != Kind::Object || args[0]->text != "numpy.dtype" || !args[0]->args ||
      args[0]->args->items.empty() || args[1]->kind != Kind::Bytes)
    return nullptr;
  const std::string& code = string_of(*args[0]->args->items[0], "a numpy dtype");
  std::string raw = args[1]->text;
  if (code.size() != 2 || raw.size() != static_cast<size_t>(code[1] - '0')) return nullptr;
  const Value* state = args[0]->state.get();
  if (state && state->kind == Kind::Tuple && state->items.size() > 1 && state->items[1]->text == ">")
    std::reverse(raw.begin(), raw.end());
  const Element e{code[0], static_cast<int>(raw.size())};
  if (!e.valid()) return nullptr;
  if (e.kind == 'f') {
    auto v = make(Kind::Float);
    v->number = decode(raw.data(), e);
    return v;
  }
  if (e.kind == 'b') {
    auto v = make(Kind::Bool);
    v->boolean = raw[0] != 0;
    return v;
  }
  const uint64_t u = load_le(raw.data(), e.size);
  if (e.kind == 'u' && e.size == 8 && u > static_cast<uint64_t>(INT64_MAX)) return nullptr;
  return make_int(e.kind == 'i' ? sign_extend(u, e.size) : static_cast<int64_t>(u));
}

// _codecs.encode(text, 'latin1'): text of code points < 256 (UTF-8 in the pickle) to bytes.
ValuePtr latin1_bytes(const std::vector<ValuePtr>& args) {
  if (args.size() != 2 || args[0]->kind != Kind::String || args[1]->kind != Kind::String ||
      (args[1]->text != "latin1" && args[1]->text != "latin-1"))
    return nullptr;
  std::string out;
  const std::string& s = args[0]->text;
  for (size_t k = 0; k < s.size(); ++k) {
    const auto c = static_cast<unsigned char>(s[k]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c & 0xfe) == 0xc2 && k + 1 < s.size()) {  // two-byte UTF-8 of U+0080..U+00FF
      out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(s[++k]) & 0x3f));
    } else {
      return nullptr;
    }
  }
  return make_text(Kind::Bytes, out);
}

ValuePtr call(const Value& callable, ValuePtr args, const StorageReader& read_storage) {
  const std::string name = callable.kind == Kind::Global ? callable.text : "<" + callable.describe() + ">";
  const auto& a = tuple_items(*args, "the arguments of " + name);
  ValuePtr out;
  if (name == "collections.OrderedDict") {
    out = make(Kind::Dict);
    if (!a.empty())
      for (const auto& pair : tuple_items(*a[0], "the items of an OrderedDict")) {
        const auto& kv = tuple_items(*pair, "an OrderedDict item");
        if (kv.size() != 2) fail("an OrderedDict item is not a (key, value) pair");
        set_item(*out, kv[0], kv[1]);
      }
  } else if (name == "builtins.set" || name == "builtins.frozenset") {
    out = make(Kind::List);
    if (!a.empty()) out->items = tuple_items(*a[0], "the items of a set");
  } else if (name == "_codecs.encode") {
    out = latin1_bytes(a);
  } else if (name == "torch.device" && !a.empty() && a[0]->kind == Kind::String) {
    out = make_text(Kind::String, a[0]->text);
    if (a.size() > 1 && a[1]->kind == Kind::Int) out->text += ":" + std::to_string(a[1]->integer);
  } else if (name == "numpy.core.multiarray.scalar" || name == "numpy._core.multiarray.scalar") {
    out = numpy_scalar(a);
  } else if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
    out = rebuild_tensor(a, read_storage);
  } else if ((name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") &&
             !a.empty() && a[0]->kind == Kind::Tensor) {
    out = a[0];
  }
  if (out) return out;
  out = make_text(Kind::Object, name);
  out->args = std::move(args);
  return out;
}

// ---- the machine -------------------------------------------------------------

class Machine {
 public:
  Machine(const std::string& in, const StorageReader& read_storage) : in_(in), read_storage_(read_storage) {}
  ValuePtr run();

 private:
  [[noreturn]] void error(const std::string& what) const {
    fail(what + " at byte " + std::to_string(op_at_) + " (opcode 0x" + hex(op_) + ")");
  }
  static std::string hex(unsigned char c) {
    const char* digits = "0123456789abcdef";
    return {digits[c >> 4], digits[c & 15]};
  }
  const char* take(uint64_t n) {
    if (n > in_.size() - pos_) error("truncated pickle");
    pos_ += n;
    return in_.data() + pos_ - n;
  }
  uint64_t le(int n) { return load_le(take(n), n); }
  std::string text(uint64_t n) { return std::string(take(n), n); }
  std::string line() {
    const auto end = in_.find('\n', pos_);
    if (end == std::string::npos) error("truncated pickle");
    std::string s = text(end - pos_);
    take(1);  // the newline
    return s;
  }
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr pop() {
    if (stack_.size() <= floor()) error("stack underflow");
    ValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  Value& top() {
    if (stack_.size() <= floor()) error("stack underflow");
    return *stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<ValuePtr> pop_mark() {  // everything above the last MARK
    if (marks_.empty()) error("no MARK on the stack");
    std::vector<ValuePtr> items(stack_.begin() + marks_.back(), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  ValuePtr sequence(Kind kind, std::vector<ValuePtr> items) {
    auto v = make(kind);
    v->items = std::move(items);
    return v;
  }
  void set_items(Value& target, const std::vector<ValuePtr>& kv) {
    if (target.kind != Kind::Dict && target.kind != Kind::Object) error("SETITEM on " + target.describe());
    if (kv.size() % 2) error("SETITEMS with an odd number of values");
    for (size_t k = 0; k < kv.size(); k += 2) set_item(target, kv[k], kv[k + 1]);
  }
  void append(Value& target, const std::vector<ValuePtr>& items) {
    if (target.kind != Kind::List && target.kind != Kind::Object) error("APPEND on " + target.describe());
    target.items.insert(target.items.end(), items.begin(), items.end());
  }
  void put(uint64_t key) {
    if (stack_.empty()) error("PUT with an empty stack");
    memo_[key] = stack_.back();
  }
  ValuePtr get(uint64_t key) const {
    auto it = memo_.find(key);
    if (it == memo_.end()) error("memo key " + std::to_string(key) + " was never stored");
    return it->second;
  }
  ValuePtr global(std::string module, const std::string& name) {
    if (module == "__builtin__") module = "builtins";  // protocol 2 writes Python 2 module names
    return make_text(Kind::Global, module + "." + name);
  }

  const std::string& in_;
  const StorageReader& read_storage_;
  size_t pos_ = 0, op_at_ = 0;
  unsigned char op_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;  // stack heights at each MARK
  std::unordered_map<uint64_t, ValuePtr> memo_;
};

ValuePtr Machine::run() {
  while (pos_ < in_.size()) {
    op_at_ = pos_;
    op_ = static_cast<unsigned char>(in_[pos_++]);
    switch (op_) {
      case 0x80: {  // PROTO
        const auto version = static_cast<unsigned char>(*take(1));
        if (version < 2 || version > 5) error("pickle protocol " + std::to_string(version) + " is not supported");
        break;
      }
      case 0x95: take(8); break;  // FRAME: a length hint only
      case '.': {                 // STOP
        ValuePtr result = pop();
        if (!stack_.empty() || !marks_.empty()) error("values left on the stack at STOP");
        return result;
      }
      case '(': marks_.push_back(stack_.size()); break;  // MARK
      case '0': pop(); break;                             // POP
      case '1': pop_mark(); break;                        // POP_MARK
      case '2': {                                         // DUP
        ValuePtr v = pop();
        push(v);
        push(v);
        break;
      }

      case 'N': push(make(Kind::None)); break;
      case 0x88:  // NEWTRUE
      case 0x89: {
        auto v = make(Kind::Bool);
        v->boolean = op_ == 0x88;
        push(v);
        break;
      }
      case 'J': push(make_int(sign_extend(le(4), 4))); break;  // BININT
      case 'K': push(make_int(static_cast<int64_t>(le(1)))); break;
      case 'M': push(make_int(static_cast<int64_t>(le(2)))); break;
      case 0x8a:    // LONG1: n-byte two's complement
      case 0x8b: {  // LONG4
        const uint64_t n = le(op_ == 0x8a ? 1 : 4);
        if (n > 8) error("an integer of " + std::to_string(n) + " bytes does not fit in 64 bits");
        push(make_int(n == 0 ? 0 : sign_extend(le(static_cast<int>(n)), static_cast<int>(n))));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian, unlike everything else
        const char* p = take(8);
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = (bits << 8) | static_cast<unsigned char>(p[k]);
        auto v = make(Kind::Float);
        std::memcpy(&v->number, &bits, 8);
        push(v);
        break;
      }
      case 0x8c: push(make_text(Kind::String, text(le(1)))); break;  // SHORT_BINUNICODE
      case 'X': push(make_text(Kind::String, text(le(4)))); break;   // BINUNICODE
      case 0x8d: push(make_text(Kind::String, text(le(8)))); break;  // BINUNICODE8
      case 'C': push(make_text(Kind::Bytes, text(le(1)))); break;    // SHORT_BINBYTES
      case 'B': push(make_text(Kind::Bytes, text(le(4)))); break;    // BINBYTES
      case 0x8e:                                                     // BINBYTES8
      case 0x96: push(make_text(Kind::Bytes, text(le(8)))); break;   // BYTEARRAY8

      case ')': push(make(Kind::Tuple)); break;  // EMPTY_TUPLE
      case ']': push(make(Kind::List)); break;   // EMPTY_LIST
      case '}': push(make(Kind::Dict)); break;   // EMPTY_DICT
      case 0x8f: push(make(Kind::List)); break;  // EMPTY_SET
      case 0x85:                                 // TUPLE1..3
      case 0x86:
      case 0x87: {
        std::vector<ValuePtr> items(op_ - 0x84);
        for (size_t k = items.size(); k-- > 0;) items[k] = pop();
        push(sequence(Kind::Tuple, std::move(items)));
        break;
      }
      case 't': push(sequence(Kind::Tuple, pop_mark())); break;  // TUPLE
      case 'l': push(sequence(Kind::List, pop_mark())); break;   // LIST
      case 0x91: push(sequence(Kind::List, pop_mark())); break;  // FROZENSET
      case 'd': {                                                // DICT
        auto items = pop_mark();
        auto v = make(Kind::Dict);
        set_items(*v, items);
        push(v);
        break;
      }
      case 's': {  // SETITEM
        ValuePtr value = pop(), key = pop();
        set_items(top(), {key, value});
        break;
      }
      case 'u': {  // SETITEMS
        auto items = pop_mark();
        set_items(top(), items);
        break;
      }
      case 'a': {  // APPEND
        ValuePtr item = pop();
        append(top(), {item});
        break;
      }
      case 'e':     // APPENDS
      case 0x90: {  // ADDITEMS (to a set)
        auto items = pop_mark();
        append(top(), items);
        break;
      }

      case 'q': put(le(1)); break;  // BINPUT
      case 'r': put(le(4)); break;  // LONG_BINPUT
      case 0x94: put(memo_.size()); break;  // MEMOIZE
      case 'h': push(get(le(1))); break;    // BINGET
      case 'j': push(get(le(4))); break;    // LONG_BINGET

      case 'c': {  // GLOBAL "module\nname\n"
        std::string module = line();
        push(global(module, line()));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        ValuePtr name = pop(), module = pop();
        if (module->kind != Kind::String || name->kind != Kind::String) error("STACK_GLOBAL needs two strings");
        push(global(module->text, name->text));
        break;
      }
      case 'R':     // REDUCE: callable(*args)
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
        ValuePtr args = pop(), callable = pop();
        push(call(*callable, args, read_storage_));
        break;
      }
      case 0x92: {  // NEWOBJ_EX: keyword arguments are dropped
        pop();
        ValuePtr args = pop(), callable = pop();
        push(call(*callable, args, read_storage_));
        break;
      }
      case 'b': {  // BUILD: kept on opaque objects; attributes of anything else are dropped
        ValuePtr state = pop();
        if (top().kind == Kind::Object) top().state = state;
        break;
      }
      case 'Q': {  // BINPERSID
        auto v = make(Kind::PersistentId);
        v->items = tuple_items(*pop(), "a persistent id");
        push(v);
        break;
      }
      default: error("unsupported opcode");
    }
  }
  fail("the pickle ends without STOP");
}

}  // namespace

ValuePtr load(const std::string& pickle, const StorageReader& read_storage) {
  return Machine(pickle, read_storage).run();
}

}  // namespace flashtp::io::pickle
