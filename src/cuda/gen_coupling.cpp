// Writes coupling_generated.hpp: the spherical harmonics recursion and every
// Clebsch-Gordan coupling (l1, l2, l3 <= kMaxL) as straight-line code, so that
// the CUDA kernels touch only the nonzero entries and keep every index a
// compile-time constant (registers, not local memory).
//
// The numbers come from so3.cpp (the same functions the CPU engine uses), so
// the two backends share their constants exactly. Run by the build; usage:
//   flashtp_gen_coupling OUTPUT_FILE
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "so3.hpp"

namespace {

constexpr int kMaxL = 4;

std::string num(double c) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "R(%.17g)", c);
  return buf;
}

// e3nn's recursion Y_{l+1}[k] = sum c * Y_l[i] * u[j], normalised exactly as
// SphericalHarmonics does it (so3.cpp): one probe vector fixes |Y_{l+1}|^2 = 2l+3.
std::vector<std::vector<flashtp::CGEntry>> sh_recursion() {
  const double probe[3] = {0.36, -0.48, 0.8};
  std::vector<double> Y = {1.0};
  std::vector<std::vector<flashtp::CGEntry>> out;
  for (int l = 0; l < kMaxL; ++l) {
    auto terms = flashtp::wigner_3j_sparse(l, 1, l + 1);
    std::vector<double> next(2 * l + 3, 0.0);
    for (const auto& t : terms) next[t.k] += t.c * Y[t.i] * probe[t.j];
    double norm = 0;
    for (double v : next) norm += v * v;
    const double c = std::sqrt((2.0 * l + 3.0) / norm);
    for (auto& t : terms) t.c *= c;
    for (auto& v : next) v *= c;
    out.push_back(terms);
    Y = next;
  }
  return out;
}

void write_spherical_harmonics(std::ostream& o) {
  const auto rec = sh_recursion();
  o << "// Degree l+1 of the real spherical harmonics from degree l (e3nn, \"component\"):\n"
       "//   Y_{l+1}[k] = sum c Y_l[i] u[j]   and its reverse-mode step.\n"
       "template <int L> struct ShStep;\n";
  for (int l = 0; l < kMaxL; ++l) {
    const int in = l * l, out = (l + 1) * (l + 1);
    o << "template <> struct ShStep<" << l << "> {\n"
      << "  template <class T>\n  FLASHTP_DEVICE static void forward(const T* u, T* Y) {\n"
      << "    using R = real_t<T>;\n";
    for (int k = 0; k < 2 * l + 3; ++k) {
      o << "    Y[" << out + k << "] = ";
      bool first = true;
      for (const auto& t : rec[l])
        if (t.k == k) {
          o << (first ? "" : " + ") << num(t.c) << " * Y[" << in + t.i << "] * u[" << t.j << "]";
          first = false;
        }
      o << ";\n";
    }
    o << "  }\n"
      << "  // g holds dL/dY for degrees <= l+1; adds into g (degree l) and grad_u.\n"
      << "  template <class T>\n  FLASHTP_DEVICE static void backward(const T* u, const T* Y, T* g, T* grad_u) {\n"
      << "    using R = real_t<T>;\n";
    for (const auto& t : rec[l]) {
      o << "    { const T c = " << num(t.c) << " * g[" << out + t.k << "]; g[" << in + t.i << "] += c * u[" << t.j
        << "]; grad_u[" << t.j << "] += c * Y[" << in + t.i << "]; }\n";
    }
    o << "  }\n};\n";
  }
}

struct Combo {
  int l1, l2, l3;
};

std::vector<Combo> combos() {
  std::vector<Combo> out;
  for (int l1 = 0; l1 <= kMaxL; ++l1)
    for (int l2 = 0; l2 <= kMaxL; ++l2)
      for (int l3 = std::abs(l1 - l2); l3 <= std::min(l1 + l2, kMaxL); ++l3) out.push_back({l1, l2, l3});
  return out;
}

// A term of a sum, added or subtracted.
struct Term {
  std::string text;
  bool negative = false;
};

// "T v = t0;<sep>v += t1;<sep>v -= t2;...": the terms summed left to right into v
// (negations are exact: a subtracted product is the added product of its negation).
std::string accumulate(const std::string& v, const std::vector<Term>& terms, const std::string& sep) {
  std::string out;
  for (size_t t = 0; t < terms.size(); ++t) {
    const bool neg = terms[t].negative;
    out += t ? sep + v + (neg ? " -= " : " += ") : "T " + v + " = " + (neg ? "-" : "");
    out += terms[t].text + ";";
  }
  return out;
}

// The uvu coupling of one channel through M[i][k] = sum_j C[i][j][k] Y[j].
// Only M's nonzero entries (i, k) count, and of those only the distinct
// values up to sign are stored, M[i][k] = s_ik Mq[q_ik] (most entries are one
// coefficient times one Y[j], and the coefficients of a coupling take few
// values: Coupling<2, 2, 2> has 23 entries, 10 products), so that a lane
// computing several channels of one path and edge builds M once and holds
// few registers of it; the signs go into the sums. The backward likewise
// keeps the gradient of each product, P[q] = sum over its entries of
// s_ik dL/dM[i][k], from which dL/dY[j] = sum_q c_qj P[q]. Returns nnz.
int write_coupling(std::ostream& o, const Combo& cb) {
  const int d1 = 2 * cb.l1 + 1, d2 = 2 * cb.l2 + 1, d3 = 2 * cb.l3 + 1, sh0 = cb.l2 * cb.l2;
  const auto cg = flashtp::wigner_3j_sparse(cb.l1, cb.l2, cb.l3);
  std::map<std::pair<int, int>, std::vector<flashtp::CGEntry>> pairs;  // (i, k) -> its entries
  for (const auto& e : cg) pairs[{e.i, e.k}].push_back(e);
  const int nnz = static_cast<int>(pairs.size());
  auto nonzero = [&](int i, int k) { return pairs.count({i, k}) > 0; };
  auto at = [](const char* array, int n) { return array + ("[" + std::to_string(n) + "]"); };
  // entry (i, k) = sign x product q: the entry's terms with the first coefficient made positive
  using Terms = std::vector<std::pair<int, double>>;  // (j, c)
  std::map<Terms, int> product_of;
  std::vector<Terms> products;
  std::map<std::pair<int, int>, std::pair<int, bool>> entry;  // (i, k) -> (q, negative)
  for (const auto& [ik, entries] : pairs) {
    const bool negative = entries.front().c < 0;
    Terms terms;
    for (const auto& e : entries) terms.emplace_back(e.j, negative ? -e.c : e.c);
    const auto known = product_of.emplace(terms, static_cast<int>(products.size()));
    if (known.second) products.push_back(terms);
    entry[ik] = {known.first->second, negative};
  }
  const int num_products = static_cast<int>(products.size());
  auto m_term = [&](int i, int k, const std::string& factor) {  // s_ik Mq[q_ik] factor
    const auto [q, negative] = entry.at({i, k});
    return Term{at("M", q) + " * " + factor, negative};
  };
  auto p_sum = [&](int i, int k) {  // P[q_ik] += s_ik wx g[k]
    const auto [q, negative] = entry.at({i, k});
    return " " + at("P", q) + (negative ? " -= " : " += ") + "wx * " + at("g", k) + ";";
  };

  o << "template <> struct Coupling<" << cb.l1 << ", " << cb.l2 << ", " << cb.l3 << "> {\n"
    << "  static constexpr int d1 = " << d1 << ", d3 = " << d3 << ", sh_offset = " << sh0 << ", sh_dim = " << d2
    << ", nnz = " << nnz << ", products = " << num_products << ";\n";
  // matrix
  o << "  // M[q]: the distinct values of the entries M[i][k] = sum_j C[i][j][k] Y[j] up to sign\n"
    << "  template <class T>\n  FLASHTP_DEVICE static void matrix(const T* Y, T* M) {\n    using R = real_t<T>;\n";
  for (int q = 0; q < num_products; ++q) {
    o << "    M[" << q << "] = ";
    for (size_t t = 0; t < products[q].size(); ++t)
      o << (t ? " + " : "") << num(products[q][t].second) << " * Y[" << sh0 + products[q][t].first << "]";
    o << ";\n";
  }
  o << "  }\n";
  // forward: scale whichever of x and the sums is shorter by w
  o << "  // out[k] += w sum_i x[i] M[i][k]\n"
    << "  template <class T>\n  FLASHTP_DEVICE static void forward(const T* x, const T* M, T w, T* out) {\n";
  const bool prescale = d1 <= d3;  // w x[i] first, summed into out[k]; else the sums, scaled by w
  if (prescale)
    for (int i = 0; i < d1; ++i) o << "    const T wx" << i << " = w * " << at("x", i) << ";\n";
  for (int k = 0; k < d3; ++k) {
    const std::string out_k = at("out", k);
    std::vector<Term> terms;
    for (int i = 0; i < d1; ++i)
      if (nonzero(i, k)) terms.push_back(m_term(i, k, prescale ? "wx" + std::to_string(i) : at("x", i)));
    if (terms.empty()) continue;
    if (prescale) terms.insert(terms.begin(), Term{out_k});
    o << "    { " << accumulate("s", terms, "\n    ") << "\n    " << out_k
      << (prescale ? " = s; }\n" : " += w * s; }\n");
  }
  o << "  }\n";
  // backward
  o << "  // Given g = dL/dout, with t[i] = sum_k M[i][k] g[k]: gx[i] += w t[i],\n"
       "  // P[q_ik] += s_ik w x[i] g[k]; returns dL/dw = sum_i x[i] t[i].\n"
    << "  template <class T>\n"
       "  FLASHTP_DEVICE static T backward(const T* x, const T* M, T w, const T* g, T* gx, T* P) {\n"
    << "    T gw = T(0);\n";
  for (int i = 0; i < d1; ++i) {
    std::vector<Term> terms;
    std::string p_sums;
    for (int k = 0; k < d3; ++k)
      if (nonzero(i, k)) {
        terms.push_back(m_term(i, k, at("g", k)));
        p_sums += p_sum(i, k);
      }
    if (terms.empty()) continue;
    o << "    { const T wx = w * " << at("x", i) << "; " << accumulate("t", terms, " ") << " gx[" << i
      << "] += w * t; gw += " << at("x", i) << " * t;" << p_sums << " }\n";
  }
  o << "    return gw;\n  }\n";
  // sh_gradient
  o << "  // gY[j] += sum_q c_qj P[q] (gY indexed within this degree's block)\n"
    << "  template <class T>\n  FLASHTP_DEVICE static void sh_gradient(const T* P, T* gY) {\n"
       "    using R = real_t<T>;\n";
  for (int j = 0; j < d2; ++j) {
    const std::string gy_j = at("gY", j);
    std::vector<Term> terms = {Term{gy_j}};
    for (int q = 0; q < num_products; ++q)
      for (const auto& [jq, c] : products[q])
        if (jq == j) terms.push_back(Term{num(c) + " * " + at("P", q)});
    if (terms.size() > 1) o << "    { " << accumulate("s", terms, "\n    ") << "\n    " << gy_j << " = s; }\n";
  }
  o << "  }\n};\n";
  return nnz;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: flashtp_gen_coupling OUTPUT_FILE\n";
    return 2;
  }
  std::ostringstream o;
  o << "// Generated by flashtp_gen_coupling (src/cuda/gen_coupling.cpp) from so3.cpp. Do not edit.\n"
       "#pragma once\n#include \"cuda/scalar.hpp\"\n\nnamespace flashtp::cuda {\n\n"
    << "constexpr int kMaxL = " << kMaxL << ";\n\n";
  write_spherical_harmonics(o);
  o << "\n// The uvu coupling of one channel: x (degree l1) with Y (degree l2) into degree l3.\n"
       "template <int L1, int L2, int L3> struct Coupling;\n";
  const auto all = combos();
  std::vector<int> nnz;
  for (const auto& cb : all) nnz.push_back(write_coupling(o, cb));
  o << "\n// Index of (l1, l2, l3) among the couplings above, -1 if none.\n"
       "inline int coupling_index(int l1, int l2, int l3) {\n";
  for (size_t n = 0; n < all.size(); ++n)
    o << "  if (l1 == " << all[n].l1 << " && l2 == " << all[n].l2 << " && l3 == " << all[n].l3 << ") return " << n << ";\n";
  o << "  return -1;\n}\n\n"
       "// Coupling<...>::d1, d3 and nnz of the coupling with that index, for the host's plans\n"
       "// and the lanes' register budget (views.hpp).\n"
       "struct CouplingShape {\n  int d1, d3, nnz;\n};\n"
       "inline CouplingShape coupling_shape(int index) {\n  constexpr CouplingShape shapes[] = {";
  for (size_t n = 0; n < all.size(); ++n)
    o << (n ? ", " : "") << "{" << 2 * all[n].l1 + 1 << ", " << 2 * all[n].l3 + 1 << ", " << nnz[n] << "}";
  o << "};\n  return shapes[index];\n}\n\n"
       "// Calls f(Coupling<l1, l2, l3>{}) for the coupling with that index.\n"
       "template <class F>\nFLASHTP_DEVICE_ONLY void dispatch_coupling(int index, F&& f) {\n  switch (index) {\n";
  for (size_t n = 0; n < all.size(); ++n)
    o << "    case " << n << ": f(Coupling<" << all[n].l1 << ", " << all[n].l2 << ", " << all[n].l3 << ">{}); break;\n";
  o << "    default: break;\n  }\n}\n\n}  // namespace flashtp::cuda\n";

  std::ofstream out(argv[1]);
  out << o.str();
  return out ? 0 : 1;
}
