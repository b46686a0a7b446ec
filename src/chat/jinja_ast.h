// Syntax tree of a parsed Jinja template. Built by the parser (jinja_parser.h), walked by
// the interpreter (jinja_interp.h). Immutable after parsing, so one tree may be rendered by
// several threads at once.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"

namespace sov::chat::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind {
  kConst,    // value
  kName,     // name
  kList,     // args = items
  kTuple,    // args = items
  kDict,     // args = key, value, key, value, ...
  kGetattr,  // args[0].name
  kGetitem,  // args[0][args[1]]
  kSlice,    // args = start, stop, step (null when omitted); only inside kGetitem
  kCall,     // args[0](args[1:], kwargs, dyn_args, dyn_kwargs)
  kFilter,   // args[0] | name(args[1:], kwargs); args[0] null inside {% filter %} / set blocks
  kTest,     // args[0] is name(args[1:], kwargs)
  kNot,      // not args[0]
  kNeg,      // -args[0]
  kPos,      // +args[0]
  kBinary,   // args[0] op args[1], op in + - * / // % ** ~
  kAnd,      // args[0] and args[1]
  kOr,       // args[0] or args[1]
  kCompare,  // args[0] ops[0] args[1] ops[1] args[2] ... (chained)
  kCond,     // args[1] if args[0] else args[2] (args[2] null: undefined)
};

struct Expr {
  ExprKind kind;
  int line = 0;
  int column = 0;
  Value value;                // kConst
  std::string name;           // kName, kGetattr attribute, filter/test name, binary operator
  std::vector<ExprPtr> args;  // operands / positional arguments (may hold nulls, see above)
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr dyn_args;              // *args
  ExprPtr dyn_kwargs;            // **kwargs
  int depth = 1;                 // height of this subtree (bounded by the parser)
  std::vector<std::string> ops;  // kCompare: "==", "!=", "<", "<=", ">", ">=", "in", "notin"
};

enum class StmtKind {
  kData,         // text
  kPrint,        // {{ expr }}
  kIf,           // if expr: body else else_body (elif nests an kIf in else_body)
  kFor,          // for target in expr [if cond] [recursive]: body else else_body
  kSet,          // set target = expr
  kSetBlock,     // set target [| filters] %} body {% endset
  kMacro,        // macro name(params=defaults): body
  kCallBlock,    // call(params) expr: body (body becomes `caller`)
  kFilterBlock,  // filter filters: body
  kWith,         // with targets = values: body
  kScope,        // body in the current scope (generation, block)
  kBreak,
  kContinue,
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  int column = 0;
  std::string text;  // kData text, kMacro name
  ExprPtr expr;      // printed value, condition, iterable, assigned value, call expression
  ExprPtr target;    // for/set target: kName, kTuple of kName, or kGetattr on a name (namespace)
  ExprPtr cond;      // for ... if cond
  bool recursive = false;
  Body body;
  Body else_body;
  std::vector<std::string> params;  // macro / call-block parameters
  std::vector<ExprPtr> defaults;    // parallel to params; null = required
  std::vector<ExprPtr> filters;     // kFilterBlock / kSetBlock: kFilter chain, innermost first
  std::vector<ExprPtr> targets;     // kWith targets
  std::vector<ExprPtr> values;      // kWith values
  // Names this statement's frame (for body, macro, block, ...) starts with as undefined,
  // and the same for a for loop's else frame (see jinja_scopes.h).
  std::vector<std::string> frame_undefined;
  std::vector<std::string> else_frame_undefined;
  // Macro body mentions these names (Jinja then accepts extra arguments / a caller).
  bool uses_varargs = false;
  bool uses_kwargs = false;
  bool uses_caller = false;
};

}  // namespace sov::chat::jinja
