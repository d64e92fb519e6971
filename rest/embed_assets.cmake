# Turns the dashboard's files into a C source of byte arrays, so that kuiperd serves them from
# memory and the single binary needs nothing beside it. Run in script mode at build time:
#   cmake -DASSET_DIR=rest/dashboard -DOUT=dashboard_assets.c -P embed_assets.cmake
# Only the file types the dashboard serves are taken (see dashboard.c's type table).
file(GLOB_RECURSE files RELATIVE ${ASSET_DIR} ${ASSET_DIR}/*)
list(SORT files)
set(body "/* Generated from rest/dashboard/ by rest/embed_assets.cmake: do not edit. */\n")
string(APPEND body "#include \"rest/dashboard_int.h\"\n\n")
set(table "")
# CMake's regular expressions have no {n}: spell out 16 bytes to break lines after.
string(REPEAT "0x..," 16 line_of_16)
set(i 0)
foreach(f ${files})
  if(NOT f MATCHES "\\.(html|js|css|svg|png|ico|json|txt)$" OR f MATCHES "(^|/)\\.")
    continue()
  endif()
  file(READ ${ASSET_DIR}/${f} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(${line_of_16})" "\\1\n" bytes "${bytes}")
  string(APPEND body "static const unsigned char a${i}[] = {\n${bytes}0};\n")
  string(APPEND table "    {\"/${f}\", a${i}, ${len}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "\nconst rest_asset rest__dashboard_assets[] = {\n${table}    {NULL, NULL, 0},\n};\n")
file(WRITE ${OUT} "${body}")
