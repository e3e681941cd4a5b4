#include "theon/printing/printing.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace theon {

namespace {

std::string id_label(size_t n) {
  // A, B, ..., Z, BA, BB, ... as Theano does.
  std::string s;
  do {
    s.insert(s.begin(), char('A' + n % 26));
    n /= 26;
  } while (n > 0);
  return s;
}

// Text inside a double-quoted Graphviz string.
std::string dot_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    if (c == '\n') {
      r += "\\n";
      continue;
    }
    r += c;
  }
  return r;
}

struct Printer {
  const DebugPrintOptions& opt;
  std::ostringstream os;
  std::unordered_map<const void*, std::string> ids;
  std::unordered_map<const void*, bool> done;
  // Position of each node in a compiled function's execution order (printed after the node).
  const std::unordered_map<const ApplyNode*, size_t>* order = nullptr;

  std::string id_of(const void* key) {
    auto it = ids.find(key);
    if (it != ids.end()) return it->second;
    return ids[key] = id_label(ids.size());
  }

  // Iterative depth-first print (no recursion limit on deep graphs). As in
  // Theano, a child's line is its parent's child prefix plus " |"; the
  // parent's last child continues with blanks, the others with " |".
  void print(const Var& root) {
    struct Item {
      Var v;
      std::string prefix, child_prefix;
      int depth;
    };
    std::vector<Item> stack{{root, "", "", 0}};
    while (!stack.empty()) {
      Item it = std::move(stack.back());
      stack.pop_back();
      const Var& v = it.v;
      ApplyNode* node = v.owner();
      const void* key = node ? static_cast<const void*>(node) : v.get();
      os << it.prefix;
      if (node) {
        os << node->op->name();
        if (node->outputs.size() > 1) os << "." << v.index();
      } else {
        os << v.str();
      }
      if (opt.ids) os << " [id " << id_of(key) << "]";
      if (opt.print_type) os << " <" << v.type().short_str() << ">";
      if (node && !v.name().empty()) os << " '" << v.name() << "'";
      if (node && order) {
        auto pos = order->find(node);
        if (pos != order->end()) os << "   " << pos->second;
      }
      os << "\n";
      if (!node) continue;
      if (done[key]) continue;  // printed in full above
      done[key] = true;
      if (opt.depth >= 0 && it.depth + 1 >= opt.depth) continue;
      for (size_t i = node->inputs.size(); i-- > 0;) {
        bool last = i + 1 == node->inputs.size();
        stack.push_back({node->inputs[i], it.child_prefix + " |", it.child_prefix + (last ? "  " : " |"), it.depth + 1});
      }
    }
  }
};

}  // namespace

std::string debugprint(const std::vector<Var>& outputs, const DebugPrintOptions& opt) {
  Printer p{opt, {}, {}, {}, nullptr};
  for (const auto& o : outputs) p.print(o);
  return p.os.str();
}

std::string debugprint(const Function& f, const DebugPrintOptions& opt) {
  std::vector<Var> roots = f.outputs();
  for (const auto& u : f.updates()) roots.push_back(u.second);
  std::unordered_map<const ApplyNode*, size_t> order;
  for (size_t i = 0; i < f.nodes().size(); ++i) order[f.nodes()[i]] = i;
  Printer p{opt, {}, {}, {}, nullptr};
  p.order = &order;
  for (const auto& o : roots) p.print(o);
  std::string s = p.os.str();
  if (!f.updates().empty()) {
    s += "Updates:\n";
    for (const auto& [sv, val] : f.updates()) s += "  " + sv.str() + " <- " + val.str() + "\n";
  }
  return s;
}

std::string graph_to_dot(const std::vector<Var>& outputs, const std::string& title) {
  std::ostringstream os;
  os << "digraph G {\n  graph [label=\"" << dot_escape(title) << "\", labelloc=t];\n";
  std::unordered_map<const void*, std::string> names;
  auto var_name = [&](const Var& v) {
    auto [it, fresh] = names.try_emplace(v.get(), "v" + std::to_string(names.size()));
    if (fresh) {
      std::string label = v.name().empty() ? v.type().short_str() : dot_escape(v.name()) + "\\n" + v.type().short_str();
      if (v.is_constant()) label = dot_escape(v.str());
      const char* color = v.is_constant() ? "lightgrey" : v.is_shared() ? "lightblue" : v.owner() ? "white" : "limegreen";
      os << "  " << it->second << " [label=\"" << label << "\", shape=box, style=filled, fillcolor=" << color << "];\n";
    }
    return it->second;
  };
  int k = 0;
  for (ApplyNode* n : toposort(outputs)) {
    std::string node_name = "n" + std::to_string(k++);
    std::string label = dot_escape(n->op->name());
    os << "  " << node_name << " [label=\"" << label << "\", shape=ellipse];\n";
    // var_name declares a variable's node on first use: name it before writing the edge.
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      std::string v = var_name(n->inputs[i]);
      os << "  " << v << " -> " << node_name << " [label=\"" << i << "\"];\n";
    }
    for (size_t i = 0; i < n->outputs.size(); ++i) {
      std::string v = var_name(n->output(int(i)));
      os << "  " << node_name << " -> " << v << ";\n";
    }
  }
  for (const auto& o : outputs) var_name(o);
  os << "}\n";
  return os.str();
}

void write_graph(const std::vector<Var>& outputs, const std::string& path, const std::string& title) {
  std::string dot = graph_to_dot(outputs, title);
  auto ext = path.substr(path.find_last_of('.') + 1);
  if (path.find('.') == std::string::npos || ext == "dot") {
    std::ofstream f(path);
    if (!f) throw std::runtime_error("pydotprint: cannot write '" + path + "'");
    f << dot;
    return;
  }
  if (ext != "svg" && ext != "png" && ext != "pdf")
    throw std::invalid_argument("pydotprint: unknown format '" + ext + "' (expected dot, svg, png or pdf)");
  for (char c : path)
    if (c == '\'' || c == '\n') throw std::invalid_argument("pydotprint: unsupported character in path '" + path + "'");
  if (std::system("command -v dot >/dev/null 2>&1") != 0)
    throw std::runtime_error("pydotprint: writing '" + path + "' needs Graphviz's 'dot' program, which is not on "
                             "PATH (install graphviz, or write a .dot file instead)");
  std::string cmd = "dot -T" + ext + " -o '" + path + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "w");
  if (!p) throw std::runtime_error("pydotprint: cannot run Graphviz's 'dot'");
  std::fwrite(dot.data(), 1, dot.size(), p);
  int rc = pclose(p);
  if (rc != 0) {
    std::remove(path.c_str());
    throw std::runtime_error("pydotprint: Graphviz's 'dot' failed writing '" + path + "' (exit status " + std::to_string(rc) + ")");
  }
}

}  // namespace theon
