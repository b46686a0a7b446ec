#include "chat/jinja_scopes.h"

#include <map>
#include <set>

namespace sov::chat::jinja {

namespace {

enum class Load { kParam, kResolve, kAlias, kUndefined };

// One frame's symbol table, as Jinja's idtracking.Symbols.
struct Symbols {
  const Symbols* parent = nullptr;
  std::map<std::string, Load> refs;
  std::set<std::string> stores;

  bool find_ref(const std::string& name) const {
    for (const Symbols* s = this; s; s = s->parent) {
      if (s->refs.count(name)) return true;
    }
    return false;
  }
  void load(const std::string& name) {
    if (!find_ref(name)) refs[name] = Load::kResolve;
  }
  void store(const std::string& name) {
    stores.insert(name);
    if (refs.count(name)) return;
    refs[name] = (parent && parent->find_ref(name)) ? Load::kAlias : Load::kUndefined;
  }
  void declare_parameter(const std::string& name) {
    stores.insert(name);
    refs[name] = Load::kParam;
  }
  // Names first stored inside some if-branch start as the outer/context value instead.
  void branch_update(const std::vector<Symbols>& branches) {
    std::set<std::string> branch_stores;
    for (const auto& b : branches) branch_stores.insert(b.stores.begin(), b.stores.end());
    for (const auto& name : stores) branch_stores.erase(name);
    for (const auto& b : branches) {
      for (const auto& [k, v] : b.refs) refs[k] = v;
      stores.insert(b.stores.begin(), b.stores.end());
    }
    for (const auto& name : branch_stores) {
      refs[name] = (parent && parent->find_ref(name)) ? Load::kAlias : Load::kResolve;
    }
  }
  std::vector<std::string> undefined_names() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : refs) {
      if (v == Load::kUndefined) out.push_back(k);
    }
    return out;
  }
};

// Frames nested in a frame's statements, found while visiting it.
struct ChildFrame {
  Stmt* stmt;
  bool else_frame;  // the else block of a for loop
};

class Analyzer {
 public:
  // Visits one frame's statements with Jinja's FrameSymbolVisitor rules (child frames are
  // recorded, not entered), then analyzes the child frames against the completed table.
  void analyze(const Body& body, Symbols* sym) {
    std::vector<ChildFrame> children;
    for (const auto& s : body) visit_stmt(*s, sym, &children);
    for (const auto& child : children) analyze_child(child, *sym);
  }

 private:
  void visit_expr(const Expr* e, Symbols* sym) {
    if (!e) return;
    if (e->kind == ExprKind::kName) sym->load(e->name);
    for (const auto& a : e->args) visit_expr(a.get(), sym);
    for (const auto& kv : e->kwargs) visit_expr(kv.second.get(), sym);
    visit_expr(e->dyn_args.get(), sym);
    visit_expr(e->dyn_kwargs.get(), sym);
  }

  void visit_target(const Expr* t, Symbols* sym, bool as_param) {
    if (!t) return;
    if (t->kind == ExprKind::kName) {
      if (as_param) {
        sym->declare_parameter(t->name);
      } else {
        sym->store(t->name);
      }
    } else if (t->kind == ExprKind::kTuple) {
      for (const auto& item : t->args) visit_target(item.get(), sym, as_param);
    } else if (t->kind == ExprKind::kGetattr) {
      sym->load(t->args[0]->name);  // namespace attribute: the namespace is read
    }
  }

  void visit_stmt(Stmt& s, Symbols* sym, std::vector<ChildFrame>* children) {
    switch (s.kind) {
      case StmtKind::kData:
      case StmtKind::kBreak:
      case StmtKind::kContinue: return;
      case StmtKind::kPrint: visit_expr(s.expr.get(), sym); return;
      case StmtKind::kIf: {
        visit_expr(s.expr.get(), sym);
        std::vector<Symbols> branches(2, *sym);
        for (auto& st : s.body) visit_stmt(*st, &branches[0], children);
        for (auto& st : s.else_body) visit_stmt(*st, &branches[1], children);
        sym->branch_update(branches);
        return;
      }
      case StmtKind::kSet:
        visit_expr(s.expr.get(), sym);
        visit_target(s.target.get(), sym, false);
        return;
      case StmtKind::kSetBlock:
        visit_target(s.target.get(), sym, false);
        children->push_back({&s, false});
        return;
      case StmtKind::kMacro:
        sym->store(s.text);
        children->push_back({&s, false});
        return;
      case StmtKind::kFor:
        visit_expr(s.expr.get(), sym);
        children->push_back({&s, false});
        if (!s.else_body.empty()) children->push_back({&s, true});
        return;
      case StmtKind::kCallBlock:
        visit_expr(s.expr.get(), sym);
        children->push_back({&s, false});
        return;
      case StmtKind::kFilterBlock:
        for (const auto& f : s.filters) visit_expr(f.get(), sym);
        children->push_back({&s, false});
        return;
      case StmtKind::kWith:
        for (const auto& v : s.values) visit_expr(v.get(), sym);
        children->push_back({&s, false});
        return;
      case StmtKind::kScope: children->push_back({&s, false}); return;
    }
  }

  void analyze_child(const ChildFrame& child, const Symbols& parent) {
    Stmt& s = *child.stmt;
    Symbols sym;
    sym.parent = &parent;
    if (child.else_frame) {
      analyze(s.else_body, &sym);
      s.else_frame_undefined = sym.undefined_names();
      return;
    }
    switch (s.kind) {
      case StmtKind::kFor:
        visit_target(s.target.get(), &sym, true);
        sym.declare_parameter("loop");
        break;
      case StmtKind::kMacro:
      case StmtKind::kCallBlock:
        for (const auto& p : s.params) sym.declare_parameter(p);
        for (const auto& d : s.defaults) visit_expr(d.get(), &sym);
        for (const char* special : {"caller", "varargs", "kwargs"}) sym.declare_parameter(special);
        break;
      case StmtKind::kWith:
        for (const auto& t : s.targets) visit_target(t.get(), &sym, true);
        break;
      default: break;
    }
    analyze(s.body, &sym);
    s.frame_undefined = sym.undefined_names();
  }
};

}  // namespace

std::vector<std::string> analyze_scopes(Body& body) {
  Symbols root;
  Analyzer().analyze(body, &root);
  return root.undefined_names();
}

}  // namespace sov::chat::jinja
