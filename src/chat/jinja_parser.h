// Jinja2 parser: tokens -> syntax tree (jinja_ast.h), following Jinja2's grammar and operator
// precedence (filters bind tighter than arithmetic, `**` is left-associative, `~` sits
// between `+`/`-` and `*`/`/`, ...). Supported tags: if/elif/else, for (else, inline `if`,
// recursive), set (plain, tuple, namespace attribute, block), macro, call, filter, with,
// break/continue, generation, block, raw (in the lexer). Nesting depth is bounded.
// Throws jinja::Error (TemplateSyntaxError) with line and column.
#pragma once

#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_lexer.h"

namespace sov::chat::jinja {

Body parse(const std::vector<Token>& tokens);

}  // namespace sov::chat::jinja
