# sov_embed_web_assets(TARGET): embeds every file under web/ui/ into TARGET as a generated
# C++ source (byte arrays + URL path, content type and ETag; see src/server/web_assets.h).
# The source is regenerated when a file is added, removed or changed. No network, no npm.
set(SOV_WEB_DIR ${CMAKE_CURRENT_LIST_DIR}/..)

function(sov_embed_web_assets target)
  file(GLOB_RECURSE files CONFIGURE_DEPENDS ${SOV_WEB_DIR}/ui/*)
  list(SORT files)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/web_assets_generated.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DWEB_ROOT=${SOV_WEB_DIR}/ui -DOUT=${out}
            -P ${SOV_WEB_DIR}/cmake/embed_web_assets.cmake
    DEPENDS ${files} ${SOV_WEB_DIR}/cmake/embed_web_assets.cmake
    COMMENT "Embedding the browser UI (web/ui)"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
