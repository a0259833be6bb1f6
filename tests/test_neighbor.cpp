// LAMMPS data reader and neighbour graph: the reference structures read back
// as references.json holds them, the edge counts upstream SevenNet found, the
// same edges as a brute-force search over all pairs and images, and clear
// errors for bad input files.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "error.hpp"
#include "io/lammps_data.hpp"
#include "neighbor.hpp"
#include "reference.hpp"

namespace {

using flashtp::Graph;
using flashtp::Structure;
using flashtp::Vec3;
using flashtp::test::reference_path;
using flashtp::test::references;

// The boundary column of the README's structure table.
const std::map<std::string, std::string> kBoundary = {
    {"hfo2_96", "p p p"}, {"hfo2_768", "p p p"}, {"bulk_rand_40", "p p p"},
    {"cluster_20", "f f f"}, {"isolated", "f f f"}, {"tiny_triclinic", "p p p"}};

Structure read_reference(const std::string& name) {
  const std::string file = references()["structure_files"][name];
  return flashtp::io::read_lammps_data(reference_path(file), flashtp::io::parse_boundary(kBoundary.at(name)));
}

// Model species are irrelevant to the graph; the LAMMPS type stands in.
std::vector<int> species_of(const Structure& s) {
  std::vector<int> out;
  for (int t : s.types) out.push_back(t - 1);
  return out;
}

Graph graph_of(const Structure& s, double cutoff) { return flashtp::build_graph(s, species_of(s), cutoff); }

// models.<name>.config.cutoff; the upstream example has no config, its note
// states the cutoff ("... cutoff 4.0, ...").
double model_cutoff(const nlohmann::json& model) {
  if (model.contains("config")) return model["config"]["cutoff"].get<double>();
  const std::string note = model["note"];
  const auto at = note.find("cutoff ");
  if (at == std::string::npos) throw std::runtime_error("no cutoff in note '" + note + "'");
  return std::stod(note.substr(at + 7));
}

double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

struct Edge {
  int i, j;
  std::array<int, 3> image;
  Vec3 vec;
};

// Every (i, j, n) by direct search. Image range per periodic axis: the
// fractional span of the atoms plus the cutoff over the perpendicular width,
// rc |g_d| (g_d = row d of the inverse cell, transposed), plus one.
std::vector<Edge> brute_force(const Structure& s, double cutoff) {
  std::array<int, 3> range{0, 0, 0};
  const double volume = dot(s.cell[0], cross(s.cell[1], s.cell[2]));
  for (int d = 0; d < 3; ++d) {
    if (!s.pbc[d]) continue;
    Vec3 g = cross(s.cell[(d + 1) % 3], s.cell[(d + 2) % 3]);
    for (double& x : g) x /= volume;
    double lo = 1e300, hi = -1e300;
    for (const Vec3& r : s.positions) {
      const Vec3 rel{r[0] - s.origin[0], r[1] - s.origin[1], r[2] - s.origin[2]};
      lo = std::min(lo, dot(rel, g));
      hi = std::max(hi, dot(rel, g));
    }
    range[d] = static_cast<int>(std::ceil(cutoff * std::sqrt(dot(g, g))) + std::ceil(hi - lo)) + 1;
  }
  std::vector<Edge> edges;
  const int n = static_cast<int>(s.positions.size());
  std::array<int, 3> m;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (m[0] = -range[0]; m[0] <= range[0]; ++m[0])
        for (m[1] = -range[1]; m[1] <= range[1]; ++m[1])
          for (m[2] = -range[2]; m[2] <= range[2]; ++m[2]) {
            Vec3 v;
            for (int a = 0; a < 3; ++a)
              v[a] = s.positions[j][a] + m[0] * s.cell[0][a] + m[1] * s.cell[1][a] + m[2] * s.cell[2][a] - s.positions[i][a];
            const double r2 = dot(v, v);
            if (r2 > 0 && r2 < cutoff * cutoff) edges.push_back({i, j, m, v});
          }
  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) {
    return std::tie(a.i, a.j, a.image) < std::tie(b.i, b.j, b.image);
  });
  return edges;
}

// Graph invariants: sizes, species, offsets, sort order, lengths.
void expect_layout(const Graph& g, const Structure& s, double cutoff, const std::string& label) {
  const int n = static_cast<int>(s.positions.size());
  ASSERT_EQ(g.num_local, n) << label;
  ASSERT_EQ(g.num_nodes, n) << label;
  EXPECT_EQ(g.species, species_of(s)) << label;
  ASSERT_EQ(g.centre_start.size(), static_cast<size_t>(n + 1)) << label;
  ASSERT_EQ(g.centre_start.front(), 0) << label;
  ASSERT_EQ(g.centre_start.back(), g.num_edges()) << label;
  ASSERT_EQ(g.neighbor.size(), g.center.size()) << label;
  ASSERT_EQ(g.vec.size(), g.center.size()) << label;
  for (int i = 0; i < n; ++i) {
    ASSERT_LE(g.centre_start[i], g.centre_start[i + 1]) << label;
    for (int64_t e = g.centre_start[i]; e < g.centre_start[i + 1]; ++e) {
      ASSERT_EQ(g.center[e], i) << label;
      ASSERT_TRUE(g.neighbor[e] >= 0 && g.neighbor[e] < n) << label;
      if (e > g.centre_start[i]) {
        ASSERT_LE(g.neighbor[e - 1], g.neighbor[e]) << label;
      }
      const double r = std::sqrt(dot(g.vec[e], g.vec[e]));
      ASSERT_TRUE(r > 0 && r < cutoff) << label << " edge " << e;
    }
  }
}

void expect_brute_force(const Structure& s, double cutoff, const std::string& label) {
  const Graph g = graph_of(s, cutoff);
  expect_layout(g, s, cutoff, label);
  const auto edges = brute_force(s, cutoff);
  ASSERT_EQ(g.num_edges(), static_cast<int64_t>(edges.size())) << label;
  for (size_t e = 0; e < edges.size(); ++e) {
    ASSERT_EQ(g.center[e], edges[e].i) << label << " edge " << e;
    ASSERT_EQ(g.neighbor[e], edges[e].j) << label << " edge " << e;
    for (int a = 0; a < 3; ++a) ASSERT_NEAR(g.vec[e][a], edges[e].vec[a], 1e-12) << label << " edge " << e;
  }
}

// Every edge (i, j, vec) has exactly one reverse (j, i, -vec).
void expect_symmetric(const Graph& g, const std::string& label) {
  for (int64_t e = 0; e < g.num_edges(); ++e) {
    const int i = g.center[e], j = g.neighbor[e];
    int reverse = 0;
    for (int64_t f = g.centre_start[j]; f < g.centre_start[j + 1]; ++f) {
      if (g.neighbor[f] != i) continue;
      bool opposite = true;
      for (int a = 0; a < 3; ++a) opposite = opposite && std::abs(g.vec[f][a] + g.vec[e][a]) < 1e-12;
      reverse += opposite;
    }
    ASSERT_EQ(reverse, 1) << label << ": edge " << e << " (" << i << " -> " << j << ")";
  }
}

// A general triclinic cell (no LAMMPS restriction), atoms spread over
// fractional coordinates [-0.6, 1.6) so many lie outside the box.
Structure random_structure(std::mt19937& rng, int n, double length, const std::array<bool, 3>& pbc) {
  std::uniform_real_distribution<double> unit(0, 1);
  Structure s;
  s.pbc = pbc;
  for (int d = 0; d < 3; ++d)
    for (int a = 0; a < 3; ++a) s.cell[d][a] = (a == d ? length * (0.7 + 0.6 * unit(rng)) : length * (unit(rng) - 0.5) * 0.8);
  s.origin = {unit(rng) - 0.5, 2 * unit(rng), -3 * unit(rng)};
  for (int k = 0; k < n; ++k) {
    Vec3 f{-0.6 + 2.2 * unit(rng), -0.6 + 2.2 * unit(rng), -0.6 + 2.2 * unit(rng)};
    Vec3 r = s.origin;
    for (int d = 0; d < 3; ++d)
      for (int a = 0; a < 3; ++a) r[a] += f[d] * s.cell[d][a];
    s.positions.push_back(r);
    s.types.push_back(1 + k % 3);
    s.tags.push_back(100 + 7 * k);
  }
  return s;
}

TEST(Neighbor, ReferenceStructuresReadAsInJson) {
  for (const auto& [name, file] : references()["structure_files"].items()) {
    SCOPED_TRACE(name);
    const auto& ref = references()["structures"][name];
    const Structure s = read_reference(name);
    for (int a = 0; a < 3; ++a) EXPECT_EQ(s.pbc[a], ref["pbc"][a].get<bool>());
    ASSERT_EQ(s.positions.size(), ref["positions"].size());
    for (size_t k = 0; k < s.positions.size(); ++k) {
      EXPECT_EQ(s.tags[k], static_cast<int64_t>(k) + 1);
      EXPECT_EQ(references()["lammps_type_order"][s.types[k] - 1], ref["species"][k]);
      for (int a = 0; a < 3; ++a) EXPECT_NEAR(s.positions[k][a], ref["positions"][k][a].get<double>(), 1e-9);
    }
    // The json gives open structures a zero cell; the data file still has a box.
    for (int d = 0; d < 3; ++d)
      for (int a = 0; a < 3; ++a) {
        const double expected = ref["cell"][d][a].get<double>();
        if (s.pbc[d]) EXPECT_NEAR(s.cell[d][a], expected, 1e-9) << "cell " << d << a;
        else EXPECT_EQ(expected, 0.0);
      }
  }
}

TEST(Neighbor, EdgeCountsMatchEveryReferenceCase) {
  EXPECT_EQ(model_cutoff(references()["models"]["upstream_example_hfo2"]), 4.0);
  int checked = 0;
  for (const auto& c : references()["cases"]) {
    const std::string model = c["model"], structure = c["structure"];
    const double cutoff = model_cutoff(references()["models"][model]);
    const Structure s = read_reference(structure);
    const Graph g = graph_of(s, cutoff);
    expect_layout(g, s, cutoff, model + "/" + structure);
    for (const char* precision : {"float32", "float64"}) {
      if (!c.contains(precision)) continue;
      EXPECT_EQ(g.num_edges(), c[precision]["num_edges"].get<int64_t>()) << model << " " << structure << " " << precision;
      ++checked;
    }
    std::cout << "[ edges    ] " << structure << " cutoff " << cutoff << " (" << model << "): " << g.num_edges() << "\n";
  }
  EXPECT_GE(checked, 39);
}

TEST(Neighbor, ReferenceStructuresMatchBruteForce) {
  for (const char* name : {"tiny_triclinic", "hfo2_96", "bulk_rand_40", "cluster_20", "isolated"}) {
    const Structure s = read_reference(name);
    for (double cutoff : {4.0, 5.0, 7.5}) {
      const std::string label = std::string(name) + " cutoff " + std::to_string(cutoff);
      expect_brute_force(s, cutoff, label);
      expect_symmetric(graph_of(s, cutoff), label);
    }
  }
}

TEST(Neighbor, TinyCellHasSelfImages) {
  const Structure s = read_reference("tiny_triclinic");
  const Graph g = graph_of(s, 5.0);
  int self = 0;
  for (int64_t e = 0; e < g.num_edges(); ++e) self += g.center[e] == g.neighbor[e];
  EXPECT_GT(self, 0);
  EXPECT_EQ(g.num_edges(), 68);
}

TEST(Neighbor, RandomTriclinicBoxesMatchBruteForce) {
  std::mt19937 rng(20240611);
  const std::array<bool, 3> boundaries[] = {
      {true, true, true}, {true, true, false}, {false, true, true}, {true, false, false}, {false, false, false}};
  int trial = 0;
  for (const auto& pbc : boundaries)
    for (double length : {3.0, 6.0, 11.0})
      for (double cutoff : {1.7, 4.0, 6.5}) {
        const Structure s = random_structure(rng, 30, length, pbc);
        const std::string label = "trial " + std::to_string(trial++) + " pbc " + std::to_string(pbc[0]) +
                                  std::to_string(pbc[1]) + std::to_string(pbc[2]) + " L " + std::to_string(length) +
                                  " rc " + std::to_string(cutoff);
        expect_brute_force(s, cutoff, label);
        expect_symmetric(graph_of(s, cutoff), label);
      }
}

TEST(Neighbor, OpenStructureIgnoresCell) {
  // Drivers may hand over open structures with a zero cell (as references.json holds them).
  Structure s = read_reference("cluster_20");
  const Graph with_box = graph_of(s, 5.0);
  s.cell = {};
  const Graph without = graph_of(s, 5.0);
  EXPECT_EQ(with_box.neighbor, without.neighbor);
  EXPECT_EQ(with_box.vec, without.vec);
  EXPECT_EQ(without.num_edges(), 126);
}

TEST(Neighbor, SupercellHasReplicatedEdges) {
  // hfo2_96 repeated 4 x 4 x 4: every copy of an atom has the neighbours of the original.
  const Structure unit = read_reference("hfo2_96");
  Structure big = unit;
  big.positions.clear();
  big.types.clear();
  big.tags.clear();
  for (int d = 0; d < 3; ++d)
    for (int a = 0; a < 3; ++a) big.cell[d][a] = 4 * unit.cell[d][a];
  for (int x = 0; x < 4; ++x)
    for (int y = 0; y < 4; ++y)
      for (int z = 0; z < 4; ++z)
        for (size_t k = 0; k < unit.positions.size(); ++k) {
          Vec3 r = unit.positions[k];
          for (int a = 0; a < 3; ++a) r[a] += x * unit.cell[0][a] + y * unit.cell[1][a] + z * unit.cell[2][a];
          big.positions.push_back(r);
          big.types.push_back(unit.types[k]);
          big.tags.push_back(static_cast<int64_t>(big.tags.size()) + 1);
        }
  const Graph small = graph_of(unit, 5.0), large = graph_of(big, 5.0);
  expect_layout(large, big, 5.0, "hfo2 4x4x4");
  ASSERT_EQ(large.num_edges(), 64 * small.num_edges());
  const int n = static_cast<int>(unit.positions.size());
  for (int i = 0; i < static_cast<int>(big.positions.size()); ++i)
    ASSERT_EQ(large.centre_start[i + 1] - large.centre_start[i], small.centre_start[i % n + 1] - small.centre_start[i % n]);
  expect_symmetric(large, "hfo2 4x4x4");
}

TEST(Neighbor, SameGraphForAnyThreadCount) {
  std::mt19937 rng(7);
  const Structure s = random_structure(rng, 3000, 30.0, {true, true, true});
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Graph one = graph_of(s, 4.0);
  omp_set_num_threads(std::max(2, threads));
  const Graph many = graph_of(s, 4.0);
  omp_set_num_threads(threads);
  EXPECT_GT(one.num_edges(), 0);
  EXPECT_EQ(one.centre_start, many.centre_start);
  EXPECT_EQ(one.neighbor, many.neighbor);
  EXPECT_EQ(one.vec, many.vec);
}

TEST(Neighbor, RejectsBadArguments) {
  const Structure s = read_reference("tiny_triclinic");
  EXPECT_THROW(flashtp::build_graph(s, {0}, 4.0), flashtp::Error);
  EXPECT_THROW(flashtp::build_graph(s, {0, 1}, 0.0), flashtp::Error);
  Structure flat = s;
  flat.cell[2] = {0, 0, 0};
  EXPECT_THROW(graph_of(flat, 4.0), flashtp::Error);
  Structure empty;
  EXPECT_EQ(flashtp::build_graph(empty, {}, 4.0).centre_start, std::vector<int64_t>{0});
}

// ---- LAMMPS data files ------------------------------------------------------

const char* const kGoodFile = R"(LAMMPS data file: image flags, comments, sparse ids, a Velocities section
4 atoms
2 atom types
0 10 xlo xhi
0 10 ylo yhi
0 10 zlo zhi
1 0 0 xy xz yz

Masses

1 178.49 # Hf
2 15.999

Atoms # atomic

10 1 0 0 0
3 2 1.5 0 0 0 0 1
7 2 0 1.5 0  # a comment
20 1 12.0 -3.0 5.0

Velocities

10 0 0 0
3 0 0 0
7 0 0 0
20 1 1 1
)";

// A data file in the test's temporary directory.
std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "flashtp_neighbor_" + name + ".data";
  std::ofstream(path) << text;
  return path;
}

// kGoodFile with one piece of text replaced.
std::string variant(const std::string& from, const std::string& to) {
  std::string text = kGoodFile;
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("no '" + from + "' in the test file");
  return text.replace(at, from.size(), to);
}

// The message of the flashtp::Error that reading `text` throws.
std::string read_error(const std::string& name, const std::string& text, const std::string& boundary = "p p p") {
  const std::string path = write_file(name, text);
  std::string message = "(no error)";
  try {
    flashtp::io::read_lammps_data(path, flashtp::io::parse_boundary(boundary));
  } catch (const flashtp::Error& e) {
    message = e.what();
  }
  std::remove(path.c_str());
  return message;
}

TEST(NeighborLammpsData, ReadsAtomicFile) {
  const std::string path = write_file("good", kGoodFile);
  const Structure s = flashtp::io::read_lammps_data(path, {true, true, false});
  std::remove(path.c_str());
  EXPECT_EQ(s.pbc, (std::array<bool, 3>{true, true, false}));
  EXPECT_EQ(s.tags, (std::vector<int64_t>{10, 3, 7, 20}));
  EXPECT_EQ(s.types, (std::vector<int>{1, 2, 2, 1}));
  // Kept as written: not wrapped, image flags not applied.
  EXPECT_EQ(s.positions[1], (Vec3{1.5, 0, 0}));
  EXPECT_EQ(s.positions[3], (Vec3{12.0, -3.0, 5.0}));
  EXPECT_EQ(s.cell[1], (Vec3{1, 10, 0}));
  EXPECT_EQ(s.origin, (Vec3{0, 0, 0}));
}

TEST(NeighborLammpsData, ParsesBoundary) {
  using flashtp::io::parse_boundary;
  EXPECT_EQ(parse_boundary("p p p"), (std::array<bool, 3>{true, true, true}));
  EXPECT_EQ(parse_boundary("p s fm"), (std::array<bool, 3>{true, false, false}));
  EXPECT_THROW(parse_boundary("p p"), flashtp::Error);
  EXPECT_THROW(parse_boundary("p x p"), flashtp::Error);
  EXPECT_THROW(parse_boundary("p pf p"), flashtp::Error);
}

TEST(NeighborLammpsData, ClearErrors) {
  auto expect_error = [](const std::string& message, const std::vector<std::string>& parts) {
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
  };
  try {
    flashtp::io::read_lammps_data(::testing::TempDir() + "no_such_file.data", {true, true, true});
    ADD_FAILURE() << "no error for a missing file";
  } catch (const flashtp::Error& e) {
    expect_error(e.what(), {"cannot open", "no_such_file.data"});
  }
  expect_error(read_error("nan", variant("1.5 0 0 0 0 1", "nan 0 0 0 0 1")), {"nan.data:17:", "atom 3", "non-finite", "nan"});
  expect_error(read_error("inf", variant("12.0 -3.0", "12.0 -inf")), {"atom 20", "non-finite"});
  expect_error(read_error("type", variant("7 2 0 1.5 0", "7 3 0 1.5 0")), {"atom 7 has type 3 outside 1..2"});
  expect_error(read_error("truncated", std::string(kGoodFile).substr(0, std::string(kGoodFile).find("20 1 12.0"))),
               {"Atoms section has 3 lines, the header promises 4", "truncated"});
  expect_error(read_error("cut_line", std::string(kGoodFile).substr(0, std::string(kGoodFile).find(" 5.0"))),
               {"atom_style atomic", "found 4 words"});
  expect_error(read_error("duplicate", variant("7 2 0 1.5 0", "3 2 0 1.5 0")), {"duplicate atom 3"});
  expect_error(read_error("style", variant("Atoms # atomic", "Atoms # charge")), {"atom style 'charge'", "atomic only"});
  expect_error(read_error("no_atoms_line", variant("4 atoms\n", "")), {"no 'atoms' line"});
  expect_error(read_error("no_atoms_section", std::string(kGoodFile).substr(0, std::string(kGoodFile).find("Atoms"))),
               {"no Atoms section"});
  expect_error(read_error("no_box", variant("0 10 zlo zhi\n", "")), {"periodic axis z"});
  EXPECT_EQ(read_error("open_no_box", variant("0 10 zlo zhi\n", ""), "p p f"), "(no error)");
  expect_error(read_error("masses", variant("2 15.999\n", "")), {"Masses section has 1 lines, the header promises 2"});
  expect_error(read_error("header", variant("2 atom types", "2 atom types\n3 bonds")), {"unsupported header line"});
}

}  // namespace
