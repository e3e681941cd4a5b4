// A character-level language model with theon::nn's LSTM, from C++ alone
// (the same job as examples/char_lm.py).
//
// The text is /usr/share/common-licenses/GPL-3, which Debian's essential
// base-files package installs (nothing is downloaded). Embedding(vocab, 32) ->
// LSTM(128, return_sequences) -> Dense(vocab) predicts every next character of
// a window; one compiled training function applies Adam's updates, and a
// second function advances the LSTM one character from its (h, c) state to
// print temperature-sampled text after each epoch.
//
//   char_lm [--quick] [epochs] [text path]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <theon/nn.h>
#include <theon/nn/recurrent.h>
#include <theon/theon.h>

using namespace theon;

int main(int argc, char** argv) {
  bool quick = false;
  std::vector<std::string> pos;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else pos.emplace_back(argv[i]);
  }
  int epochs = pos.size() > 0 ? std::stoi(pos[0]) : quick ? 2 : 6;
  std::string path = pos.size() > 1 ? pos[1] : "/usr/share/common-licenses/GPL-3";
  const int64_t seq_len = quick ? 32 : 64, batch = 64, units = quick ? 64 : 128, stride = quick ? 16 : 4;
  const int sample_len = quick ? 80 : 300;
  const double temperature = 0.6;

  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "char_lm: cannot read " << path << " (Debian's base-files package installs it)\n";
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::string chars = text;
  std::sort(chars.begin(), chars.end());
  chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
  std::map<char, int64_t> index;
  for (size_t i = 0; i < chars.size(); ++i) index[chars[i]] = int64_t(i);
  std::vector<int64_t> data;
  for (char c : text) data.push_back(index[c]);
  const int64_t V = int64_t(chars.size());
  std::cout << text.size() << " characters (bytes), vocabulary " << V << ", LSTM(" << units << ")\n";

  nn::set_global_seed(1234);
  auto embed = std::make_shared<nn::Embedding>(V, 32);
  auto lstm = std::make_shared<nn::LSTM>(units, nn::RNNOptions{.return_sequences = true});
  auto dense = std::make_shared<nn::Dense>(V);

  Var x = nn::Input({seq_len}, DType::Int64, "x"), y = nn::Input({seq_len}, DType::Int64, "y");
  Var seq = lstm->call_with_state(embed->call(x, true), {}, {}, true).output;
  Var logits = dense->call(seq, true);  // (batch, time, vocab)
  Var loss = nn::sparse_categorical_crossentropy(flatten(y), reshape(logits, std::vector<int64_t>{-1, V}), true);
  std::vector<Var> params;
  for (const nn::Layer* l : {static_cast<nn::Layer*>(embed.get()), static_cast<nn::Layer*>(lstm.get()),
                             static_cast<nn::Layer*>(dense.get())})
    params.insert(params.end(), l->trainable_weights().begin(), l->trainable_weights().end());
  auto opt = nn::adam(5e-3, 0.9, 0.999, 1e-7, false, 0, nn::Clipping{.clipnorm = 5.0});
  auto train = function({x, y}, {loss}, FunctionOptions{.updates = opt->get_updates(loss, params)});

  // One generation step: a character and the state in, the next logits and state out.
  Var c_in = nn::Input({1}, DType::Int64, "c"), h_in = nn::Input({units}), s_in = nn::Input({units});
  auto r1 = lstm->call_with_state(embed->call(c_in, false), {}, {h_in, s_in}, false);
  Var next = subtensor(dense->call(r1.output, false), {IndexItem::slice(), IndexItem::integer(int64_t(0))});
  auto step = function({c_in, h_in, s_in}, {next, r1.states[0], r1.states[1]});

  std::mt19937_64 rng(0);
  auto sample = [&](const std::string& seed, int n) {
    Array h = Array::zeros(DType::Float32, {1, units}), s = Array::zeros(DType::Float32, {1, units});
    std::vector<Array> out;
    std::string res = seed;
    auto feed = [&](int64_t k) {
      out = (*step)({Array::from_vector<int64_t>({k}, {1, 1}), h, s});
      h = out[1];
      s = out[2];
    };
    for (char c : seed) feed(index[c]);
    for (int i = 0; i < n; ++i) {
      std::vector<double> z = out[0].to_double_vector(), p(z.size());
      double mx = *std::max_element(z.begin(), z.end()), tot = 0;
      for (size_t j = 0; j < z.size(); ++j) tot += p[j] = std::exp((z[j] - mx) / temperature);
      std::discrete_distribution<int64_t> pick(p.begin(), p.end());
      int64_t k = pick(rng);
      res += chars[size_t(k)];
      feed(k);
    }
    return res;
  };

  std::vector<int64_t> starts;
  for (int64_t i = 0; i + seq_len + 1 < int64_t(data.size()); i += stride) starts.push_back(i);
  double first = -1, last = 0;
  for (int e = 1; e <= epochs; ++e) {
    std::shuffle(starts.begin(), starts.end(), rng);
    std::vector<double> losses;
    auto t0 = std::chrono::steady_clock::now();
    for (size_t b = 0; b + size_t(batch) <= starts.size(); b += size_t(batch)) {
      std::vector<int64_t> xb, yb;
      for (int64_t r = 0; r < batch; ++r)
        for (int64_t t = 0; t < seq_len; ++t) {
          xb.push_back(data[size_t(starts[b + size_t(r)] + t)]);
          yb.push_back(data[size_t(starts[b + size_t(r)] + t + 1)]);
        }
      Array l = (*train)({Array::from_vector<int64_t>(xb, {batch, seq_len}),
                          Array::from_vector<int64_t>(yb, {batch, seq_len})})[0];
      losses.push_back(l.to_double_vector()[0]);
      if (losses.size() == 5) first = std::accumulate(losses.begin(), losses.end(), 0.0) / 5;
    }
    size_t q = std::max<size_t>(1, losses.size() / 4);
    last = std::accumulate(losses.end() - long(q), losses.end(), 0.0) / double(q);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "epoch " << e << "/" << epochs << ": loss (last quarter) " << last << ", " << losses.size()
              << " batches in " << secs << " s\n  sample: " << sample("The ", sample_len) << "\n";
  }
  std::cout << "loss: " << first << " -> " << last << "\n";
  return last < first ? 0 : 1;
}
