// Jinja2's compile-time name analysis (its idtracking module), reduced to the one effect
// that dynamic scoping does not reproduce by itself.
//
// Jinja gives every frame (the template, a for body, a for-else, a macro, a call block, a
// with/set/filter block) its own locals, initialised when the frame is entered. A name whose
// first mention in a frame (in source order, not counting if-branches) is an assignment, and
// which no enclosing frame knows, starts out *undefined* in that frame, even if the render
// context defines it. So in
//     {% for m in messages %}{{ x }}{% endfor %}{% set x = 1 %}
// the loop prints nothing for x although x was passed in. analyze_scopes() finds these names
// so that the interpreter can pre-set them when it enters the frame. Pure function of the tree.
#pragma once

#include <string>
#include <vector>

#include "chat/jinja_ast.h"

namespace sov::chat::jinja {

// Fills Stmt::frame_undefined / else_frame_undefined throughout `body` and returns the list
// for the template's own (root) frame.
std::vector<std::string> analyze_scopes(Body& body);

}  // namespace sov::chat::jinja
