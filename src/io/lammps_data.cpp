// LAMMPS data file reader, atom_style atomic.
//
// Layout of a data file: the first line is a title; then header lines
// ("96 atoms", "3 atom types", "0 10.1 xlo xhi", ..., "1.7 0 0 xy xz yz");
// then sections, each a keyword line ("Masses", "Atoms # atomic",
// "Velocities", ...) followed by numeric lines. Text after '#' is a comment,
// except that the comment of the "Atoms" line names the atom style. A line
// whose first word is not a number starts a section, which is how sections
// we do not need (Velocities, ...) are skipped whatever their length.
#include "io/lammps_data.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_set>
#include <vector>

#include "error.hpp"

namespace flashtp::io {
namespace {

struct Line {
  int number = 0;                   // 1-based line number in the file
  std::vector<std::string> words;   // the text before '#', split on whitespace
  std::string comment;              // the text after '#', trimmed
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Reads every line after the title; blank and comment-only lines are dropped.
std::vector<Line> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open LAMMPS data file '" + path + "'");
  std::vector<Line> lines;
  std::string text;
  std::getline(in, text);  // title
  for (int number = 2; std::getline(in, text); ++number) {
    const auto hash = text.find('#');
    Line line{number, split_words(text.substr(0, hash)), ""};
    if (hash != std::string::npos) line.comment = trim(text.substr(hash + 1));
    if (!line.words.empty()) lines.push_back(std::move(line));
  }
  return lines;
}

// Parses one file, reporting problems as "path:line: message".
class Parser {
 public:
  explicit Parser(const std::string& path) : path_(path) {}

  [[noreturn]] void fail(const Line& line, const std::string& message) const {
    throw Error(path_ + ":" + std::to_string(line.number) + ": " + message);
  }
  [[noreturn]] void fail(const std::string& message) const { throw Error(path_ + ": " + message); }

  // A number that uses up the whole word (nan and inf parse; callers check them).
  double real(const Line& line, size_t k) const {
    const std::string& w = line.words[k];
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(w.c_str(), &end);
    if (end == w.c_str() || *end != '\0' || errno == ERANGE) fail(line, "'" + w + "' is not a number");
    return v;
  }

  long long integer(const Line& line, size_t k) const {
    const std::string& w = line.words[k];
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(w.c_str(), &end, 10);
    if (end == w.c_str() || *end != '\0' || errno == ERANGE) fail(line, "'" + w + "' is not an integer");
    return v;
  }

 private:
  std::string path_;
};

bool is_number(const std::string& word) {
  char* end = nullptr;
  std::strtod(word.c_str(), &end);
  return end != word.c_str();
}

// True when the line's words after the first `skip` ones are exactly `keyword`.
bool ends_with(const Line& line, size_t skip, const std::vector<std::string>& keyword) {
  if (line.words.size() != skip + keyword.size()) return false;
  for (size_t k = 0; k < keyword.size(); ++k)
    if (line.words[skip + k] != keyword[k]) return false;
  return true;
}

struct Header {
  std::optional<long long> atoms, atom_types;
  std::optional<std::array<double, 2>> bounds[3];  // lo, hi per axis
  std::array<double, 3> tilt{};                   // xy, xz, yz
};

// Header lines run up to the first section keyword; returns its index.
size_t parse_header(const Parser& p, const std::vector<Line>& lines, Header& h) {
  static const char* const kBoundWords[3][2] = {{"xlo", "xhi"}, {"ylo", "yhi"}, {"zlo", "zhi"}};
  size_t k = 0;
  for (; k < lines.size() && is_number(lines[k].words[0]); ++k) {
    const Line& line = lines[k];
    if (ends_with(line, 1, {"atoms"})) {
      h.atoms = p.integer(line, 0);
      if (*h.atoms < 0) p.fail(line, "negative number of atoms");
    } else if (ends_with(line, 1, {"atom", "types"})) {
      h.atom_types = p.integer(line, 0);
      if (*h.atom_types < 1) p.fail(line, "the number of atom types must be at least 1");
    } else if (ends_with(line, 3, {"xy", "xz", "yz"})) {
      for (int a = 0; a < 3; ++a) h.tilt[a] = p.real(line, a);
      for (double t : h.tilt)
        if (!std::isfinite(t)) p.fail(line, "non-finite tilt factor");
    } else {
      bool matched = false;
      for (int a = 0; a < 3 && !matched; ++a) {
        if (!ends_with(line, 2, {kBoundWords[a][0], kBoundWords[a][1]})) continue;
        const double lo = p.real(line, 0), hi = p.real(line, 1);
        if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo))
          p.fail(line, std::string("box bounds need finite ") + kBoundWords[a][0] + " < " + kBoundWords[a][1]);
        h.bounds[a] = std::array<double, 2>{lo, hi};
        matched = true;
      }
      if (!matched) p.fail(line, "unsupported header line (atom_style atomic data files only)");
    }
  }
  if (!h.atoms) p.fail("header has no 'atoms' line");
  if (!h.atom_types) p.fail("header has no 'atom types' line");
  return k;
}

// The numeric lines of the section whose keyword line is lines[start].
std::vector<const Line*> section_body(const std::vector<Line>& lines, size_t start) {
  std::vector<const Line*> body;
  for (size_t k = start + 1; k < lines.size() && is_number(lines[k].words[0]); ++k) body.push_back(&lines[k]);
  return body;
}

void check_count(const Parser& p, const Line& keyword, const std::string& name, size_t found, long long expected) {
  if (static_cast<long long>(found) != expected)
    p.fail(keyword, name + " section has " + std::to_string(found) + " lines, the header promises " +
                        std::to_string(expected) + (static_cast<long long>(found) < expected ? " (truncated?)" : ""));
}

void parse_masses(const Parser& p, const Line& keyword, const std::vector<const Line*>& body, long long ntypes) {
  check_count(p, keyword, "Masses", body.size(), ntypes);
  for (const Line* line : body) {
    if (line->words.size() != 2) p.fail(*line, "a Masses line is 'type mass'");
    const long long type = p.integer(*line, 0);
    if (type < 1 || type > ntypes) p.fail(*line, "mass given for type " + std::to_string(type) + " outside 1.." + std::to_string(ntypes));
    const double mass = p.real(*line, 1);
    if (!std::isfinite(mass) || mass <= 0) p.fail(*line, "mass of type " + std::to_string(type) + " must be finite and positive");
  }
}

void parse_atoms(const Parser& p, const Line& keyword, const std::vector<const Line*>& body, const Header& h, Structure& s) {
  if (!keyword.comment.empty()) {
    const std::string style = split_words(keyword.comment)[0];
    if (style != "atomic") p.fail(keyword, "atom style '" + style + "' is not supported (atom_style atomic only)");
  }
  check_count(p, keyword, "Atoms", body.size(), *h.atoms);
  std::unordered_set<int64_t> seen;
  for (const Line* line : body) {
    // id type x y z, optionally followed by three image flags (read, not applied:
    // positions are kept as written).
    if (line->words.size() != 5 && line->words.size() != 8)
      p.fail(*line, "an Atoms line is 'id type x y z [ix iy iz]' (atom_style atomic), found " +
                        std::to_string(line->words.size()) + " words");
    const long long id = p.integer(*line, 0);
    const std::string atom = "atom " + std::to_string(id);
    if (id < 1) p.fail(*line, atom + ": atom ids must be positive");
    if (!seen.insert(id).second) p.fail(*line, "duplicate " + atom);
    const long long type = p.integer(*line, 1);
    if (type < 1 || type > *h.atom_types)
      p.fail(*line, atom + " has type " + std::to_string(type) + " outside 1.." + std::to_string(*h.atom_types));
    Vec3 r;
    for (int a = 0; a < 3; ++a) {
      r[a] = p.real(*line, 2 + a);
      if (!std::isfinite(r[a])) p.fail(*line, atom + " has a non-finite coordinate '" + line->words[2 + a] + "'");
    }
    for (size_t k = 5; k < line->words.size(); ++k) p.integer(*line, k);
    s.positions.push_back(r);
    s.types.push_back(static_cast<int>(type));
    s.tags.push_back(id);
  }
}

}  // namespace

Structure read_lammps_data(const std::string& path, const std::array<bool, 3>& pbc) {
  const Parser p(path);
  const std::vector<Line> lines = read_lines(path);
  Header h;
  size_t k = parse_header(p, lines, h);

  Structure s;
  s.pbc = pbc;
  // LAMMPS' default box is [-0.5, 0.5] on an axis without a bounds line; a
  // periodic axis needs a real one.
  static const char* const kAxis = "xyz";
  std::array<double, 3> lo{}, len{};
  for (int a = 0; a < 3; ++a) {
    if (!h.bounds[a] && pbc[a]) p.fail(std::string("periodic axis ") + kAxis[a] + " has no '" + kAxis[a] + "lo " + kAxis[a] + "hi' line");
    const auto b = h.bounds[a].value_or(std::array<double, 2>{-0.5, 0.5});
    lo[a] = b[0];
    len[a] = b[1] - b[0];
  }
  // Lattice vectors of LAMMPS' restricted triclinic box.
  s.origin = {lo[0], lo[1], lo[2]};
  s.cell[0] = {len[0], 0, 0};
  s.cell[1] = {h.tilt[0], len[1], 0};
  s.cell[2] = {h.tilt[1], h.tilt[2], len[2]};

  bool have_atoms = false, have_masses = false;
  while (k < lines.size()) {
    const Line& keyword = lines[k];
    const auto body = section_body(lines, k);
    k += 1 + body.size();
    const std::string name = keyword.words[0];
    if (name == "Atoms") {
      if (have_atoms) p.fail(keyword, "second Atoms section");
      parse_atoms(p, keyword, body, h, s);
      have_atoms = true;
    } else if (name == "Masses") {
      if (have_masses) p.fail(keyword, "second Masses section");
      parse_masses(p, keyword, body, *h.atom_types);
      have_masses = true;
    }
  }
  if (!have_atoms && *h.atoms > 0) p.fail("no Atoms section (the header promises " + std::to_string(*h.atoms) + " atoms)");
  return s;
}

std::array<bool, 3> parse_boundary(const std::string& text) {
  const auto words = split_words(text);
  if (words.size() != 3) throw Error("boundary '" + text + "' must give three axes, e.g. 'p p p'");
  std::array<bool, 3> pbc{};
  for (int a = 0; a < 3; ++a) {
    const std::string& w = words[a];
    // One letter for both faces, or two (lower, upper); 'p' cannot be mixed.
    const bool open = (w.size() == 1 || w.size() == 2) && w.find_first_not_of("fsm") == std::string::npos;
    if (w != "p" && !open) throw Error("boundary '" + text + "': '" + w + "' is not p, f, s, m or a pair of f, s, m");
    pbc[a] = w == "p";
  }
  return pbc;
}

}  // namespace flashtp::io
