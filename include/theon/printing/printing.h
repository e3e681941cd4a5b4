// theon/printing/printing.h — showing graphs to people.
//
// debugprint: Theano's indented tree, one node per line with its type and an
// id, shared subtrees printed once and referred to by id afterwards.
// graph_to_dot: the graph in Graphviz's dot language (pydotprint), which
// write_graph renders to .dot, .svg or .png through Graphviz's `dot`.
#pragma once
#include <string>
#include <vector>

#include "theon/compile/function.h"
#include "theon/graph/node.h"

namespace theon {

struct DebugPrintOptions {
  bool print_type = true;
  int depth = -1;  // -1: unlimited
  bool ids = true;
};

std::string debugprint(const std::vector<Var>& outputs, const DebugPrintOptions& opt = {});
std::string debugprint(const Function& f, const DebugPrintOptions& opt = {});
std::string graph_to_dot(const std::vector<Var>& outputs, const std::string& title = "");
// Writes the graph to `path`; the format follows the extension (.dot, .svg, .png, .pdf).
// Formats other than .dot need Graphviz's `dot` program; a clear error says so when it is missing.
void write_graph(const std::vector<Var>& outputs, const std::string& path, const std::string& title = "");

}  // namespace theon
