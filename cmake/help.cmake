# Turns the help texts (docs/help/NAME.txt) into a C file of strings,
# help.c: cmake -DOUT=help.c -DDIR=docs/help -P help.cmake.  The texts
# are documentation, edited as text beside the manual pages; the program
# prints them as they are.
file(GLOB texts RELATIVE ${DIR} ${DIR}/*.txt)
list(SORT texts)
set(c "/* Made from docs/help/NAME.txt by cmake/help.cmake: do not edit. */\n")
string(APPEND c "#include <stddef.h>\n\n#include \"cli.h\"\n\n")
string(APPEND c "const struct cli_help cli_helps[] = {\n")
foreach(t ${texts})
	string(REGEX REPLACE "\\.txt$" "" name ${t})
	file(READ ${DIR}/${t} text)
	string(REPLACE "\\" "\\\\" text "${text}")
	string(REPLACE "\"" "\\\"" text "${text}")
	string(REPLACE "\n" "\\n\"\n\t\"" text "${text}")
	string(APPEND c "\t{ \"${name}\",\n\t\"${text}\" },\n")
endforeach()
string(APPEND c "\t{ NULL, NULL }\n};\n")
# Only a changed text rewrites the file (and rebuilds the program).
if(EXISTS ${OUT})
	file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${c}")
	file(WRITE ${OUT} "${c}")
endif()
