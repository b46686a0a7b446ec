#include "chat/jinja_parser.h"

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "chat/jinja_error.h"

namespace sov::chat::jinja {

namespace {

constexpr int kMaxNesting = 200;    // parser recursion (parentheses, nested blocks)
constexpr int kMaxExprDepth = 256;  // depth of one expression tree (a.b.c..., a+b+c...)

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : t_(tokens) {}

  Body parse_template() {
    Body body = subparse({});
    if (cur().type != TokenType::kEof) fail("unexpected " + describe(cur()));
    return body;
  }

 private:
  // Frame of a macro being parsed: which special names its body mentions.
  struct MacroFrame {
    bool varargs = false, kwargs = false, caller = false;
  };

  const Token& cur() const { return t_[i_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  const Token& advance() {
    const Token& tok = t_[i_];
    if (i_ + 1 < t_.size()) ++i_;
    return tok;
  }

  bool is_op(std::string_view op) const { return cur().type == TokenType::kOperator && cur().value == op; }
  bool is_name(std::string_view name) const { return cur().type == TokenType::kName && cur().value == name; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }

  static std::string describe(const Token& tok) {
    switch (tok.type) {
      case TokenType::kName:
      case TokenType::kOperator:
      case TokenType::kInteger:
      case TokenType::kFloat: return "'" + tok.value + "'";
      case TokenType::kString: return "string";
      default: return token_type_name(tok.type);
    }
  }

  [[noreturn]] void fail(const std::string& message) const { fail_at(message, cur()); }
  [[noreturn]] static void fail_at(const std::string& message, const Token& tok) {
    throw Error("TemplateSyntaxError", message, tok.line, tok.column);
  }

  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail("expected token '" + std::string(op) + "', got " + describe(cur()));
  }
  void expect_type(TokenType type) {
    if (cur().type != type) {
      if (cur().type == TokenType::kEof) fail_eof();
      fail("expected token '" + std::string(token_type_name(type)) + "', got " + describe(cur()));
    }
    advance();
  }
  std::string expect_name() {
    if (cur().type != TokenType::kName) fail("expected token 'name', got " + describe(cur()));
    return advance().value;
  }

  [[noreturn]] void fail_eof() const {
    std::string msg = "Unexpected end of template.";
    if (!end_stack_.empty() && !end_stack_.back().empty()) {
      msg += " Jinja was looking for the following tags: ";
      const auto& names = end_stack_.back();
      for (size_t k = 0; k < names.size(); ++k) msg += (k ? " or '" : "'") + std::string(names[k]) + "'";
      msg += ".";
    }
    if (!tag_stack_.empty())
      msg += " The innermost block that needs to be closed is '" + tag_stack_.back() + "'.";
    fail_at(msg, cur());
  }

  ExprPtr make(ExprKind kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = at.line;
    e->column = at.column;
    return e;
  }

  // Records the depth of a finished node; bounds evaluation and destruction recursion.
  ExprPtr seal(ExprPtr e) {
    int d = 0;
    auto see = [&](const ExprPtr& c) {
      if (c) d = std::max(d, c->depth);
    };
    for (const auto& c : e->args) see(c);
    for (const auto& kv : e->kwargs) see(kv.second);
    see(e->dyn_args);
    see(e->dyn_kwargs);
    e->depth = d + 1;
    if (e->depth > kMaxExprDepth)
      throw Error("TemplateSyntaxError", "expression nested too deeply", e->line, e->column);
    return e;
  }

  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p_(p) {
      if (++p_->depth_ > kMaxNesting) p_->fail("template nested too deeply");
    }
    ~DepthGuard() { --p_->depth_; }
    Parser* p_;
  };

  // ---- statements ----

  Body subparse(std::vector<std::string_view> end_tokens) {
    Body body;
    DepthGuard guard(this);
    end_stack_.push_back(end_tokens);
    while (cur().type != TokenType::kEof) {
      const Token& tok = cur();
      if (tok.type == TokenType::kData) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kData;
        s->line = tok.line;
        s->column = tok.column;
        s->text = tok.value;
        body.push_back(std::move(s));
        advance();
      } else if (tok.type == TokenType::kVariableBegin) {
        advance();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kPrint;
        s->line = cur().line;
        s->column = cur().column;
        s->expr = parse_tuple(true, {}, false);
        expect_type(TokenType::kVariableEnd);
        body.push_back(std::move(s));
      } else if (tok.type == TokenType::kBlockBegin) {
        advance();
        if (cur().type == TokenType::kName) {
          for (auto end : end_tokens) {
            if (cur().value == end) {
              end_stack_.pop_back();
              return body;
            }
          }
        }
        body.push_back(parse_statement());
        expect_type(TokenType::kBlockEnd);
      } else {
        fail("unexpected " + describe(tok));
      }
    }
    end_stack_.pop_back();
    return body;
  }

  // Parses a body up to one of `end_tokens`; leaves the matched end name current unless
  // drop_needle, in which case it is consumed.
  Body parse_statements(std::vector<std::string_view> end_tokens, bool drop_needle) {
    skip_op(":");
    expect_type(TokenType::kBlockEnd);
    Body body = subparse(end_tokens);
    if (cur().type == TokenType::kEof) {
      end_stack_.push_back(end_tokens);
      fail_eof();
    }
    if (drop_needle) advance();
    return body;
  }

  StmtPtr new_stmt(StmtKind kind, const Token& at) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = at.line;
    s->column = at.column;
    return s;
  }

  StmtPtr parse_statement() {
    const Token& tok = cur();
    if (tok.type != TokenType::kName) fail("tag name expected");
    const std::string& name = tok.value;
    tag_stack_.push_back(name);
    StmtPtr s;
    if (name == "if") {
      s = parse_if();
    } else if (name == "for") {
      s = parse_for();
    } else if (name == "set") {
      s = parse_set();
    } else if (name == "macro") {
      s = parse_macro();
    } else if (name == "call") {
      s = parse_call_block();
    } else if (name == "filter") {
      s = parse_filter_block();
    } else if (name == "with") {
      s = parse_with();
    } else if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) fail("'" + name + "' outside loop");
      s = new_stmt(name == "break" ? StmtKind::kBreak : StmtKind::kContinue, tok);
      advance();
    } else if (name == "generation" || name == "block") {
      s = new_stmt(StmtKind::kScope, tok);
      std::string end = "end" + name;
      advance();
      if (name == "block") {
        expect_name();
        skip_name("scoped");
        skip_name("required");
      }
      s->body = parse_statements({end}, true);
      if (name == "block" && cur().type == TokenType::kName) advance();  // {% endblock name %}
    } else {
      tag_stack_.pop_back();
      std::string msg = "Encountered unknown tag '" + name + "'.";
      if (!end_stack_.empty() && !end_stack_.back().empty()) {
        msg += " Jinja was looking for the following tags: ";
        const auto& names = end_stack_.back();
        for (size_t k = 0; k < names.size(); ++k) msg += (k ? " or '" : "'") + std::string(names[k]) + "'";
        msg += ".";
      }
      fail(msg);
    }
    tag_stack_.pop_back();
    return s;
  }

  StmtPtr parse_if() {
    StmtPtr root = new_stmt(StmtKind::kIf, advance());
    Stmt* node = root.get();
    while (true) {
      node->expr = parse_tuple(false, {}, false);
      node->body = parse_statements({"elif", "else", "endif"}, false);
      const Token& tok = advance();
      if (tok.value == "elif") {
        StmtPtr next = new_stmt(StmtKind::kIf, tok);
        Stmt* raw = next.get();
        node->else_body.push_back(std::move(next));
        node = raw;
        continue;
      }
      if (tok.value == "else") node->else_body = parse_statements({"endif"}, true);
      break;
    }
    return root;
  }

  StmtPtr parse_for() {
    StmtPtr s = new_stmt(StmtKind::kFor, advance());
    s->target = parse_assign_target(true, {"in"}, false);
    if (!skip_name("in")) fail("expected token 'in', got " + describe(cur()));
    s->expr = parse_tuple(false, {"recursive"}, false);
    if (skip_name("if")) s->cond = parse_expression(true);
    s->recursive = skip_name("recursive");
    ++loop_depth_;
    s->body = parse_statements({"endfor", "else"}, false);
    --loop_depth_;
    if (advance().value != "endfor") s->else_body = parse_statements({"endfor"}, true);
    return s;
  }

  StmtPtr parse_set() {
    StmtPtr s = new_stmt(StmtKind::kSet, advance());
    s->target = parse_assign_target(true, {}, true);
    if (skip_op("=")) {
      s->expr = parse_tuple(true, {}, false);
      return s;
    }
    s->kind = StmtKind::kSetBlock;
    parse_filter_chain(&s->filters, false);
    s->body = parse_statements({"endset"}, true);
    return s;
  }

  void parse_signature(Stmt* s) {
    expect_op("(");
    while (!is_op(")")) {
      if (!s->params.empty()) expect_op(",");
      s->params.push_back(expect_name());
      if (skip_op("=")) {
        s->defaults.push_back(parse_expression(true));
      } else {
        for (const auto& d : s->defaults) {
          if (d) fail("non-default argument follows default argument");
        }
        s->defaults.push_back(nullptr);
      }
    }
    expect_op(")");
  }

  StmtPtr parse_macro() {
    StmtPtr s = new_stmt(StmtKind::kMacro, advance());
    s->text = expect_name();
    parse_signature(s.get());
    macro_stack_.emplace_back();
    int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_statements({"endmacro"}, true);
    loop_depth_ = saved_loop_depth;
    s->uses_varargs = macro_stack_.back().varargs;
    s->uses_kwargs = macro_stack_.back().kwargs;
    s->uses_caller = macro_stack_.back().caller;
    macro_stack_.pop_back();
    return s;
  }

  StmtPtr parse_call_block() {
    StmtPtr s = new_stmt(StmtKind::kCallBlock, advance());
    if (is_op("(")) parse_signature(s.get());
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::kCall) fail_at("expected call", t_[i_ > 0 ? i_ - 1 : 0]);
    macro_stack_.emplace_back();
    s->body = parse_statements({"endcall"}, true);
    s->uses_varargs = macro_stack_.back().varargs;
    s->uses_kwargs = macro_stack_.back().kwargs;
    s->uses_caller = macro_stack_.back().caller;
    macro_stack_.pop_back();
    return s;
  }

  StmtPtr parse_filter_block() {
    StmtPtr s = new_stmt(StmtKind::kFilterBlock, advance());
    parse_filter_chain(&s->filters, true);
    s->body = parse_statements({"endfilter"}, true);
    return s;
  }

  StmtPtr parse_with() {
    StmtPtr s = new_stmt(StmtKind::kWith, advance());
    while (cur().type != TokenType::kBlockEnd) {
      if (!s->targets.empty()) expect_op(",");
      s->targets.push_back(parse_assign_target(true, {}, false));
      expect_op("=");
      s->values.push_back(parse_expression(true));
    }
    s->body = parse_statements({"endwith"}, true);
    return s;
  }

  // Assignment target: a name, a tuple of names, or (with_namespace) name.attr.
  ExprPtr parse_assign_target(bool with_tuple, std::vector<std::string_view> extra_end, bool with_namespace) {
    const Token& at = cur();
    ExprPtr target;
    if (with_tuple) {
      std::vector<ExprPtr> items;
      bool is_tuple = false;
      while (true) {
        if (!items.empty()) expect_op(",");
        if (is_tuple_end(extra_end)) break;
        items.push_back(parse_target_primary(with_namespace));
        if (is_op(",")) {
          is_tuple = true;
        } else {
          break;
        }
      }
      if (!is_tuple) {
        if (items.empty()) fail("Expected an expression, got " + describe(cur()));
        target = std::move(items[0]);
      } else {
        target = make(ExprKind::kTuple, at);
        target->args = std::move(items);
      }
    } else {
      target = parse_target_primary(with_namespace);
    }
    return target;
  }

  ExprPtr parse_target_primary(bool with_namespace) {
    const Token& tok = cur();
    if (tok.type != TokenType::kName) fail("can't assign to " + describe(tok));
    const std::string& v = tok.value;
    if (v == "true" || v == "false" || v == "True" || v == "False" || v == "none" || v == "None") {
      fail("can't assign to 'const'");
    }
    advance();
    ExprPtr name = make(ExprKind::kName, tok);
    name->name = v;
    if (with_namespace && is_op(".")) {
      advance();
      ExprPtr ref = make(ExprKind::kGetattr, tok);
      ref->name = expect_name();
      ref->args.push_back(std::move(name));
      return ref;
    }
    return name;
  }

  // ---- expressions ----

  bool is_tuple_end(const std::vector<std::string_view>& extra_end) const {
    TokenType ty = cur().type;
    if (ty == TokenType::kVariableEnd || ty == TokenType::kBlockEnd || is_op(")")) return true;
    if (ty == TokenType::kName) {
      for (auto e : extra_end) {
        if (cur().value == e) return true;
      }
    }
    return false;
  }

  ExprPtr parse_tuple(bool with_condexpr, std::vector<std::string_view> extra_end, bool explicit_parens) {
    const Token& at = cur();
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      items.push_back(parse_expression(with_condexpr));
      if (is_op(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) {
        if (cur().type == TokenType::kEof) fail_eof();
        fail("Expected an expression, got " + describe(cur()));
      }
    }
    ExprPtr t = make(ExprKind::kTuple, at);
    t->args = std::move(items);
    return seal(std::move(t));
  }

  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
    DepthGuard guard(this);
    const Token& at = cur();
    ExprPtr expr1 = parse_or();
    while (skip_name("if")) {
      ExprPtr cond = make(ExprKind::kCond, at);
      cond->args.push_back(parse_or());
      cond->args.push_back(std::move(expr1));
      cond->args.push_back(skip_name("else") ? parse_condexpr() : nullptr);
      expr1 = seal(std::move(cond));
    }
    return expr1;
  }

  ExprPtr binary(ExprKind kind, const Token& at, ExprPtr l, ExprPtr r, std::string op = "") {
    ExprPtr e = make(kind, at);
    e->name = std::move(op);
    e->args.push_back(std::move(l));
    e->args.push_back(std::move(r));
    return seal(std::move(e));
  }

  ExprPtr parse_or() {
    const Token& at = cur();
    ExprPtr left = parse_and();
    while (skip_name("or")) left = binary(ExprKind::kOr, at, std::move(left), parse_and());
    return left;
  }

  ExprPtr parse_and() {
    const Token& at = cur();
    ExprPtr left = parse_not();
    while (skip_name("and")) left = binary(ExprKind::kAnd, at, std::move(left), parse_not());
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(this);
      ExprPtr e = make(ExprKind::kNot, advance());
      e->args.push_back(parse_not());
      return seal(std::move(e));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const Token& at = cur();
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == TokenType::kOperator &&
          (cur().value == "==" || cur().value == "!=" || cur().value == "<" || cur().value == "<=" ||
           cur().value == ">" || cur().value == ">=")) {
        op = advance().value;
      } else if (skip_name("in")) {
        op = "in";
      } else if (is_name("not") && peek().type == TokenType::kName && peek().value == "in") {
        advance();
        advance();
        op = "notin";
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(ExprKind::kCompare, at);
        cmp->args.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? seal(std::move(cmp)) : std::move(first);
  }

  ExprPtr parse_math1() {
    const Token& at = cur();
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = advance().value;
      left = binary(ExprKind::kBinary, at, std::move(left), parse_concat(), op);
    }
    return left;
  }

  ExprPtr parse_concat() {
    const Token& at = cur();
    ExprPtr left = parse_math2();
    while (skip_op("~")) left = binary(ExprKind::kBinary, at, std::move(left), parse_math2(), "~");
    return left;
  }

  ExprPtr parse_math2() {
    const Token& at = cur();
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = advance().value;
      left = binary(ExprKind::kBinary, at, std::move(left), parse_pow(), op);
    }
    return left;
  }

  ExprPtr parse_pow() {
    const Token& at = cur();
    ExprPtr left = parse_unary(true);
    while (skip_op("**")) left = binary(ExprKind::kBinary, at, std::move(left), parse_unary(true), "**");
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(this);
    const Token& at = cur();
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      node = make(is_op("-") ? ExprKind::kNeg : ExprKind::kPos, at);
      advance();
      node->args.push_back(parse_unary(false));
      node = seal(std::move(node));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& tok = cur();
    switch (tok.type) {
      case TokenType::kName: {
        advance();
        const std::string& v = tok.value;
        ExprPtr e;
        if (v == "true" || v == "True" || v == "false" || v == "False") {
          e = make(ExprKind::kConst, tok);
          e->value = Value(v == "true" || v == "True");
        } else if (v == "none" || v == "None") {
          e = make(ExprKind::kConst, tok);
          e->value = Value::none();
        } else {
          e = make(ExprKind::kName, tok);
          e->name = v;
          note_name(v);
        }
        return e;
      }
      case TokenType::kString: {
        ExprPtr e = make(ExprKind::kConst, tok);
        std::string s;
        while (cur().type == TokenType::kString) s += advance().value;  // adjacent literals join
        e->value = Value(std::move(s));
        return e;
      }
      case TokenType::kInteger:
      case TokenType::kFloat: {
        ExprPtr e = make(ExprKind::kConst, tok);
        e->value = tok.type == TokenType::kInteger ? Value(tok.int_value) : Value(tok.float_value);
        advance();
        return e;
      }
      case TokenType::kOperator:
        if (tok.value == "(") {
          advance();
          ExprPtr e = parse_tuple(true, {}, true);
          expect_op(")");
          return e;
        }
        if (tok.value == "[") return parse_list();
        if (tok.value == "{") return parse_dict();
        break;
      case TokenType::kEof: fail_eof();
      default: break;
    }
    fail("unexpected " + describe(tok));
  }

  // Jinja checks a macro's whole body, nested macros and call blocks included, for these.
  void note_name(const std::string& v) {
    for (auto& frame : macro_stack_) {
      if (v == "varargs") frame.varargs = true;
      if (v == "kwargs") frame.kwargs = true;
      if (v == "caller") frame.caller = true;
    }
  }

  ExprPtr parse_list() {
    ExprPtr e = make(ExprKind::kList, advance());
    while (!is_op("]")) {
      if (!e->args.empty()) expect_op(",");
      if (is_op("]")) break;
      e->args.push_back(parse_expression(true));
    }
    expect_op("]");
    return seal(std::move(e));
  }

  ExprPtr parse_dict() {
    ExprPtr e = make(ExprKind::kDict, advance());
    while (!is_op("}")) {
      if (!e->args.empty()) expect_op(",");
      if (is_op("}")) break;
      e->args.push_back(parse_expression(true));
      expect_op(":");
      e->args.push_back(parse_expression(true));
    }
    expect_op("}");
    return seal(std::move(e));
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".") || is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        node = parse_filters(std::move(node), false);
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    DepthGuard guard(this);
    // Subscripts report errors at the start of the whole expression (`a` of `a.b[c]`).
    Token tok = advance();
    tok.line = node->line;
    tok.column = node->column;
    if (tok.value == ".") {
      const Token& attr = cur();
      if (attr.type == TokenType::kName) {
        advance();
        ExprPtr e = make(ExprKind::kGetattr, tok);
        e->name = attr.value;
        e->args.push_back(std::move(node));
        return seal(std::move(e));
      }
      if (attr.type != TokenType::kInteger) fail("expected name or number");
      advance();
      ExprPtr e = make(ExprKind::kGetitem, tok);
      ExprPtr key = make(ExprKind::kConst, attr);
      key->value = Value(attr.int_value);
      e->args.push_back(std::move(node));
      e->args.push_back(std::move(key));
      return seal(std::move(e));
    }
    std::vector<ExprPtr> subs;
    while (!is_op("]")) {
      if (!subs.empty()) expect_op(",");
      subs.push_back(parse_subscribed());
    }
    expect_op("]");
    ExprPtr e = make(ExprKind::kGetitem, tok);
    e->args.push_back(std::move(node));
    if (subs.size() == 1) {
      e->args.push_back(std::move(subs[0]));
    } else {
      ExprPtr t = make(ExprKind::kTuple, tok);
      t->args = std::move(subs);
      e->args.push_back(seal(std::move(t)));
    }
    return seal(std::move(e));
  }

  ExprPtr parse_subscribed() {
    const Token& at = cur();
    ExprPtr start;
    if (!is_op(":")) {
      start = parse_expression(true);
      if (!is_op(":")) return start;
    }
    advance();  // ':'
    ExprPtr slice = make(ExprKind::kSlice, at);
    slice->args.push_back(std::move(start));
    if (is_op(":") || is_op("]") || is_op(",")) {
      slice->args.push_back(nullptr);
    } else {
      slice->args.push_back(parse_expression(true));
    }
    if (skip_op(":") && !is_op("]") && !is_op(",")) {
      slice->args.push_back(parse_expression(true));
    } else {
      slice->args.push_back(nullptr);
    }
    return seal(std::move(slice));
  }

  // Parses "(args)" into e->args (after any existing entries), kwargs, dyn_args, dyn_kwargs.
  void parse_call_args(Expr* e) {
    const Token& open = cur();
    expect_op("(");
    bool require_comma = false;
    auto ensure = [&](bool ok) {
      if (!ok) fail_at("invalid syntax for function call expression", open);
    };
    while (!is_op(")")) {
      if (require_comma) {
        expect_op(",");
        if (is_op(")")) break;
      }
      if (is_op("*")) {
        ensure(!e->dyn_args && !e->dyn_kwargs);
        advance();
        e->dyn_args = parse_expression(true);
      } else if (is_op("**")) {
        ensure(!e->dyn_kwargs);
        advance();
        e->dyn_kwargs = parse_expression(true);
      } else if (cur().type == TokenType::kName && peek().type == TokenType::kOperator &&
                 peek().value == "=") {
        ensure(!e->dyn_kwargs);
        std::string key = advance().value;
        advance();
        e->kwargs.emplace_back(key, parse_expression(true));
      } else {
        ensure(!e->dyn_args && !e->dyn_kwargs && e->kwargs.empty());
        e->args.push_back(parse_expression(true));
      }
      require_comma = true;
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr node) {
    DepthGuard guard(this);
    ExprPtr e = make(ExprKind::kCall, cur());
    e->line = node->line;  // report errors at the start of the call expression
    e->column = node->column;
    e->args.push_back(std::move(node));
    parse_call_args(e.get());
    return seal(std::move(e));
  }

  std::string parse_dotted_name() {
    std::string name = expect_name();
    while (skip_op(".")) {
      name.push_back('.');
      name.append(expect_name());
    }
    return name;
  }

  // `| name(args) | name ...` applied to `node` (null inside filter blocks).
  ExprPtr parse_filters(ExprPtr node, bool start_inline) {
    while (is_op("|") || start_inline) {
      if (!start_inline) advance();
      start_inline = false;
      const Token& at = cur();
      ExprPtr f = make(ExprKind::kFilter, at);
      f->name = parse_dotted_name();
      f->args.push_back(std::move(node));
      if (is_op("(")) parse_call_args(f.get());
      node = seal(std::move(f));
    }
    return node;
  }

  // For {% filter %} and {% set x | f %}: the chain as separate nodes, innermost first.
  void parse_filter_chain(std::vector<ExprPtr>* out, bool start_inline) {
    ExprPtr chain = parse_filters(nullptr, start_inline);
    // Unnest: each filter's args[0] is the previous filter.
    std::vector<ExprPtr> rev;
    while (chain) {
      ExprPtr inner = std::move(chain->args[0]);
      rev.push_back(std::move(chain));
      chain = std::move(inner);
    }
    for (auto it = rev.rbegin(); it != rev.rend(); ++it) out->push_back(std::move(*it));
  }

  ExprPtr parse_test(ExprPtr node) {
    const Token& at = advance();  // 'is'
    bool negated = skip_name("not");
    ExprPtr t = make(ExprKind::kTest, at);
    t->name = parse_dotted_name();
    t->args.push_back(std::move(node));
    const Token& c = cur();
    bool arg_start = c.type == TokenType::kName || c.type == TokenType::kString ||
                     c.type == TokenType::kInteger || c.type == TokenType::kFloat || is_op("[") || is_op("{");
    if (is_op("(")) {
      parse_call_args(t.get());
    } else if (arg_start && !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail("You cannot chain multiple tests with is");
      t->args.push_back(parse_postfix(parse_primary()));
    }
    t = seal(std::move(t));
    if (!negated) return t;
    ExprPtr n = make(ExprKind::kNot, at);
    n->args.push_back(std::move(t));
    return seal(std::move(n));
  }

  const std::vector<Token>& t_;
  size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  std::vector<std::vector<std::string_view>> end_stack_;
  std::vector<std::string> tag_stack_;
  std::vector<MacroFrame> macro_stack_;
};

}  // namespace

Body parse(const std::vector<Token>& tokens) {
  return Parser(tokens).parse_template();
}

}  // namespace sov::chat::jinja
