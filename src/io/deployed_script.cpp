#include "io/deployed_script.hpp"

#include <cctype>
#include <cstdlib>
#include <sstream>

#include "error.hpp"

namespace flashtp::io::script {
namespace {

struct Token {
  enum class Kind { name, number, string, punct, end } kind = Kind::end;
  std::string text;
};

std::vector<Token> tokenize(const std::string& line, int line_no) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < line.size() && (std::isalnum(static_cast<unsigned char>(line[j])) || line[j] == '_')) ++j;
      out.push_back({Token::Kind::name, line.substr(i, j - i)});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < line.size() && (std::isdigit(static_cast<unsigned char>(line[j])) || line[j] == '.')) ++j;
      if (j < line.size() && (line[j] == 'e' || line[j] == 'E')) {
        ++j;
        if (j < line.size() && (line[j] == '-' || line[j] == '+')) ++j;
        while (j < line.size() && std::isdigit(static_cast<unsigned char>(line[j]))) ++j;
      }
      out.push_back({Token::Kind::number, line.substr(i, j - i)});
      i = j;
    } else if (c == '"' || c == '\'') {
      std::string text;
      size_t j = i + 1;
      while (j < line.size() && line[j] != c) {
        if (line[j] == '\\' && j + 1 < line.size()) ++j;
        text += line[j++];
      }
      if (j >= line.size()) throw Error("code line " + std::to_string(line_no) + ": unterminated string");
      out.push_back({Token::Kind::string, text});
      i = j + 1;
    } else if (c == '-' && i + 1 < line.size() && line[i + 1] == '>') {
      out.push_back({Token::Kind::punct, "->"});
      i += 2;
    } else if (std::string("()[],=:.-").find(c) != std::string::npos) {
      out.push_back({Token::Kind::punct, std::string(1, c)});
      ++i;
    } else {
      throw Error("code line " + std::to_string(line_no) + ": unexpected character '" + std::string(1, c) + "'");
    }
  }
  out.push_back({Token::Kind::end, ""});
  return out;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, int line) : t_(std::move(tokens)), line_(line) {}

  Statement statement() {
    Statement s;
    s.line = line_;
    if (has_assignment()) {
      while (!is("=")) {
        s.targets.push_back(expect_name());
        if (is(",")) ++k_;
      }
      ++k_;
    }
    s.value = expression();
    if (t_[k_].kind != Token::Kind::end) fail("unexpected '" + t_[k_].text + "'");
    return s;
  }

 private:
  // `a, b, = ...` or `a = ...`: a '=' outside brackets that is not a keyword argument.
  bool has_assignment() const {
    int depth = 0;
    for (const auto& t : t_) {
      if (t.kind != Token::Kind::punct) continue;
      if (t.text == "(" || t.text == "[") ++depth;
      if (t.text == ")" || t.text == "]") --depth;
      if (t.text == "=" && depth == 0) return true;
    }
    return false;
  }

  bool is(const char* punct) const { return t_[k_].kind == Token::Kind::punct && t_[k_].text == punct; }
  void expect(const char* punct) {
    if (!is(punct)) fail(std::string("expected '") + punct + "'");
    ++k_;
  }
  std::string expect_name() {
    if (t_[k_].kind != Token::Kind::name) fail("expected a name");
    return t_[k_++].text;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error("code line " + std::to_string(line_) + ": " + what);
  }

  ExprPtr expression() {
    ExprPtr e = primary();
    for (;;) {
      if (is("(")) {
        e = call(e);
      } else if (is("[")) {
        ++k_;
        auto sub = std::make_shared<Expr>();
        sub->kind = Expr::Kind::subscript;
        sub->args = {e, expression()};
        expect("]");
        e = sub;
      } else {
        return e;
      }
    }
  }

  ExprPtr call(const ExprPtr& callee) {
    if (callee->kind != Expr::Kind::name) fail("call of something that is not a name");
    auto c = std::make_shared<Expr>();
    c->kind = Expr::Kind::call;
    c->text = callee->text;
    expect("(");
    while (!is(")")) {
      if (t_[k_].kind == Token::Kind::name && t_[k_ + 1].kind == Token::Kind::punct && t_[k_ + 1].text == "=") {
        std::string key = t_[k_].text;
        k_ += 2;
        c->kwargs.emplace_back(key, expression());
      } else {
        c->args.push_back(expression());
      }
      if (!is(")")) expect(",");
    }
    ++k_;
    return c;
  }

  ExprPtr primary() {
    const Token& t = t_[k_];
    auto e = std::make_shared<Expr>();
    if (t.kind == Token::Kind::number) {
      ++k_;
      e->kind = Expr::Kind::number;
      e->number = std::strtod(t.text.c_str(), nullptr);
      e->integer = t.text.find_first_of(".eE") == std::string::npos;
      return e;
    }
    if (t.kind == Token::Kind::string) {
      ++k_;
      e->kind = Expr::Kind::string;
      e->text = t.text;
      return e;
    }
    if (t.kind == Token::Kind::name) {
      // Dotted names: torch.reshape, ops.prim.dtype, CONSTANTS.c12.
      std::string name = t_[k_++].text;
      while (is(".")) {
        ++k_;
        name += "." + expect_name();
      }
      if (name.rfind("CONSTANTS.c", 0) == 0) {
        e->kind = Expr::Kind::constant;
        e->constant = std::atoi(name.c_str() + 11);
      } else {
        e->kind = Expr::Kind::name;
      }
      e->text = name;
      return e;
    }
    if (is("-")) {
      ++k_;
      ExprPtr inner = primary();
      if (inner->kind != Expr::Kind::number) fail("'-' before something that is not a number");
      auto neg = std::make_shared<Expr>(*inner);
      neg->number = -neg->number;
      return neg;
    }
    if (is("(") || is("[")) {
      // A tuple or a list; a parenthesised single expression is itself.
      const bool paren = is("(");
      ++k_;
      e->kind = Expr::Kind::list;
      bool comma = false;
      while (!is(paren ? ")" : "]")) {
        e->args.push_back(expression());
        if (is(",")) {
          comma = true;
          ++k_;
        } else if (!is(paren ? ")" : "]")) {
          fail("expected ','");
        }
      }
      ++k_;
      if (paren && !comma && e->args.size() == 1) return e->args[0];
      return e;
    }
    fail("unexpected '" + t.text + "'");
  }

  std::vector<Token> t_;
  size_t k_ = 0;
  int line_;
};

bool starts_with_word(const std::string& s, const char* word) {
  const size_t n = std::char_traits<char>::length(word);
  return s.compare(0, n, word) == 0 && (s.size() == n || !std::isalnum(static_cast<unsigned char>(s[n])));
}

int bracket_balance(const std::string& s) {
  int depth = 0;
  bool quoted = false;
  char quote = 0;
  for (char c : s) {
    if (quoted) {
      if (c == quote) quoted = false;
    } else if (c == '"' || c == '\'') {
      quoted = true;
      quote = c;
    } else if (c == '(' || c == '[') {
      ++depth;
    } else if (c == ')' || c == ']') {
      --depth;
    }
  }
  return depth;
}

}  // namespace

Script parse(const std::string& code) {
  std::vector<std::pair<int, std::string>> lines;  // logical lines, brackets balanced
  {
    std::istringstream in(code);
    std::string line, pending;
    int no = 0, start = 0;
    while (std::getline(in, line)) {
      ++no;
      if (pending.empty()) start = no;
      pending += (pending.empty() ? "" : " ") + line;
      if (bracket_balance(pending) > 0) continue;
      lines.emplace_back(start, pending);
      pending.clear();
    }
    if (!pending.empty()) throw Error("code line " + std::to_string(start) + ": unbalanced brackets");
  }

  Script script;
  bool in_forward = false;
  for (const auto& [no, raw] : lines) {
    const size_t first = raw.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    const std::string s = raw.substr(first);
    if (starts_with_word(s, "def")) {
      if (s.rfind("def forward(", 0) != 0) throw Error("code line " + std::to_string(no) + ": a function other than forward");
      if (in_forward) throw Error("code line " + std::to_string(no) + ": a second forward function");
      // def forward(self: ..., input: Dict[str, Tensor]) -> Dict[str, Tensor]:
      const size_t comma = s.find(',');
      const size_t colon = comma == std::string::npos ? comma : s.find(':', comma);
      if (colon == std::string::npos) throw Error("code line " + std::to_string(no) + ": unexpected signature of forward");
      script.input = s.substr(comma + 1, colon - comma - 1);
      script.input.erase(0, script.input.find_first_not_of(" "));
      in_forward = true;
      continue;
    }
    if (!in_forward) continue;  // class header, __parameters__, __buffers__
    // Block structure carries no data: flatten it.
    if (starts_with_word(s, "if") || starts_with_word(s, "elif") || starts_with_word(s, "else") ||
        starts_with_word(s, "for") || starts_with_word(s, "return") || s == "pass")
      continue;
    script.body.push_back(Parser(tokenize(s, no), no).statement());
  }
  if (!in_forward) throw Error("the code has no forward function");
  return script;
}

void visit(const Expr& e, const std::function<void(const Expr& node, const Expr* parent)>& f, const Expr* parent) {
  f(e, parent);
  for (const auto& a : e.args) visit(*a, f, &e);
  for (const auto& kw : e.kwargs) visit(*kw.second, f, &e);
}

}  // namespace flashtp::io::script
