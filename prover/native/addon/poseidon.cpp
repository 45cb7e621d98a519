// Poseidon over BN254's scalar field as a Node-API addon: the same function
// as circomlibjs's poseidon_opt.js (and circomlib's poseidon.circom), with the
// prover's Montgomery arithmetic (../src/field.hpp, ffiasm's assembly when
// built with it). circomlibjs makes one WebAssembly call per field operation,
// 1.3 ms for 16 inputs here; this runs the whole permutation natively.
//
// The round constants are not compiled in: core/poseidon-native.ts passes
// circomlibjs's own tables once per width (setConstants), so the two can
// never disagree on parameters, and test/poseidon-native.test.ts compares
// outputs for every width.
//
// JS interface (all values BigInt, canonical: 0 <= x < r):
//   setConstants(t, nRoundsP, C, S, M, P)   tables in circomlibjs's layout
//   hash(inputs)      -> BigInt              1..16 inputs, initial state 0
//   hashMany(flat, n) -> BigInt[]            flat.length / n hashes of n inputs
// A non-canonical or non-BigInt input throws a RangeError naming its index.
#include <node_api.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../src/field.hpp"

using poa::Fr;
using poa::u64;

namespace {

constexpr int MAX_T = 17;
constexpr int ROUNDS_F = 8;

struct Width {
  bool ready = false;
  int t = 0, roundsP = 0;
  std::vector<Fr> C, S, M, P;  // Montgomery form; M and P are t×t, M[j][i] at j*t+i
};

// Set once per width at start-up, read afterwards (worker threads each load
// their own copy of the module data through napi_set_instance_data).
struct Tables {
  Width w[MAX_T + 1];
};

inline Fr pow5(const Fr& a) {
  Fr a2 = a.sqr();
  return a * a2.sqr();
}

// state = M^T · state, as circomlibjs's reduce over M[j][i].
inline void mix(Fr* s, const std::vector<Fr>& m, int t) {
  Fr out[MAX_T];
  for (int i = 0; i < t; i++) {
    Fr acc = Fr::zero();
    for (int j = 0; j < t; j++) acc = acc + m[j * t + i] * s[j];
    out[i] = acc;
  }
  for (int i = 0; i < t; i++) s[i] = out[i];
}

Fr permute(const Width& w, const Fr* inputs) {
  const int t = w.t;
  Fr s[MAX_T];
  s[0] = Fr::zero();
  for (int i = 1; i < t; i++) s[i] = inputs[i - 1];
  for (int i = 0; i < t; i++) s[i] = s[i] + w.C[i];
  for (int r = 0; r < ROUNDS_F / 2 - 1; r++) {
    for (int i = 0; i < t; i++) s[i] = pow5(s[i]) + w.C[(r + 1) * t + i];
    mix(s, w.M, t);
  }
  for (int i = 0; i < t; i++) s[i] = pow5(s[i]) + w.C[(ROUNDS_F / 2) * t + i];
  mix(s, w.P, t);
  // Partial rounds with the sparse matrices (neptune's optimisation).
  for (int r = 0; r < w.roundsP; r++) {
    s[0] = pow5(s[0]) + w.C[(ROUNDS_F / 2 + 1) * t + r];
    const Fr* sr = &w.S[(2 * t - 1) * r];
    Fr s0 = Fr::zero();
    for (int j = 0; j < t; j++) s0 = s0 + sr[j] * s[j];
    for (int k = 1; k < t; k++) s[k] = s[k] + s[0] * sr[t + k - 1];
    s[0] = s0;
  }
  for (int r = 0; r < ROUNDS_F / 2 - 1; r++) {
    for (int i = 0; i < t; i++) s[i] = pow5(s[i]) + w.C[(ROUNDS_F / 2 + 1) * t + w.roundsP + r * t + i];
    mix(s, w.M, t);
  }
  for (int i = 0; i < t; i++) s[i] = pow5(s[i]);
  // Only state[0] is the output: the last mix needs one column.
  Fr out = Fr::zero();
  for (int j = 0; j < t; j++) out = out + w.M[j * t + 0] * s[j];
  return out;
}

napi_value throwRange(napi_env env, const std::string& msg) {
  napi_throw_range_error(env, nullptr, msg.c_str());
  return nullptr;
}

// A canonical field element from a BigInt, in Montgomery form; false if not one.
bool readField(napi_env env, napi_value v, Fr* out) {
  napi_valuetype type;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_bigint) return false;
  int sign = 0;
  size_t count = 4;
  u64 words[4] = {0, 0, 0, 0};
  // With more than 4 words napi_ok is still returned and count is the true length.
  if (napi_get_value_bigint_words(env, v, &sign, &count, words) != napi_ok) return false;
  if (sign != 0 || count > 4) return false;
  if (!Fr::canonical(words)) return false;
  *out = Fr::from_normal(words);
  return true;
}

// Every Node-API call's status is checked: while a worker thread is being
// terminated (process exit) calls fail with an exception pending, and a
// value left unset would be handed back to V8 (a crash, not an error).
napi_value writeField(napi_env env, const Fr& x) {
  Fr n = x.to_normal();
  size_t count = 4;
  while (count > 0 && n.v[count - 1] == 0) count--;
  napi_value r = nullptr;
  if (napi_create_bigint_words(env, 0, count, n.v, &r) != napi_ok) return nullptr;
  return r;
}

bool readArray(napi_env env, napi_value arr, const char* what, std::vector<Fr>& out, uint32_t expect, std::string& err) {
  bool isArray = false;
  if (napi_is_array(env, arr, &isArray) != napi_ok || !isArray) { err = std::string(what) + " must be an array of BigInt"; return false; }
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok) { err = std::string(what) + ": its length could not be read"; return false; }
  if (expect != UINT32_MAX && n != expect) { err = std::string(what) + " has " + std::to_string(n) + " elements, expected " + std::to_string(expect); return false; }
  out.resize(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e = nullptr;
    if (napi_get_element(env, arr, i, &e) != napi_ok || !readField(env, e, &out[i])) { err = std::string(what) + "[" + std::to_string(i) + "] is not a field element (a BigInt in [0, r))"; return false; }
  }
  return true;
}

Tables* tablesOf(napi_env env) {
  void* data = nullptr;
  if (napi_get_instance_data(env, &data) != napi_ok) return nullptr;
  return static_cast<Tables*>(data);
}

napi_value SetConstants(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  if (argc != 6) return throwRange(env, "setConstants(t, nRoundsP, C, S, M, P) takes 6 arguments");
  int32_t t, roundsP;
  if (napi_get_value_int32(env, argv[0], &t) != napi_ok || t < 2 || t > MAX_T) return throwRange(env, "t must be 2..17");
  if (napi_get_value_int32(env, argv[1], &roundsP) != napi_ok || roundsP < 1 || roundsP > 200) return throwRange(env, "nRoundsP must be 1..200");
  Width w;
  w.t = t;
  w.roundsP = roundsP;
  std::string err;
  if (!readArray(env, argv[2], "C", w.C, (uint32_t)(ROUNDS_F * t + roundsP), err) ||
      !readArray(env, argv[3], "S", w.S, (uint32_t)((2 * t - 1) * roundsP), err) ||
      !readArray(env, argv[4], "M", w.M, (uint32_t)(t * t), err) ||
      !readArray(env, argv[5], "P", w.P, (uint32_t)(t * t), err)) {
    return throwRange(env, err);
  }
  w.ready = true;
  Tables* tables = tablesOf(env);
  if (!tables) return nullptr;
  tables->w[t] = std::move(w);
  return nullptr;
}

const Width* widthFor(napi_env env, uint32_t n) {
  if (n < 1 || n > MAX_T - 1) { throwRange(env, "Poseidon takes 1..16 inputs, got " + std::to_string(n)); return nullptr; }
  Tables* tables = tablesOf(env);
  if (!tables) return nullptr;
  const Width& w = tables->w[n + 1];
  if (!w.ready) { throwRange(env, "Poseidon constants for " + std::to_string(n) + " inputs were not set"); return nullptr; }
  return &w;
}

napi_value Hash(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arr = nullptr;
  if (napi_get_cb_info(env, info, &argc, &arr, nullptr, nullptr) != napi_ok) return nullptr;
  bool isArray = false;
  if (argc == 1 && napi_is_array(env, arr, &isArray) != napi_ok) return nullptr;
  if (argc != 1 || !isArray) return throwRange(env, "hash(inputs) takes one array of BigInt");
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return nullptr;
  const Width* w = widthFor(env, n);
  if (!w) return nullptr;
  Fr in[MAX_T];
  for (uint32_t i = 0; i < n; i++) {
    napi_value e = nullptr;
    if (napi_get_element(env, arr, i, &e) != napi_ok) return nullptr;
    if (!readField(env, e, &in[i])) return throwRange(env, "input " + std::to_string(i) + " is not a field element (a BigInt in [0, r))");
  }
  return writeField(env, permute(*w, in));
}

napi_value HashMany(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {nullptr, nullptr};
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  bool isArray = false;
  if (argc == 2 && napi_is_array(env, argv[0], &isArray) != napi_ok) return nullptr;
  uint32_t width = 0;
  if (!isArray || napi_get_value_uint32(env, argv[1], &width) != napi_ok) return throwRange(env, "hashMany(flat, width) takes an array of BigInt and a width");
  const Width* w = widthFor(env, width);
  if (!w) return nullptr;
  uint32_t total = 0;
  if (napi_get_array_length(env, argv[0], &total) != napi_ok) return nullptr;
  if (total % width != 0) return throwRange(env, "hashMany: " + std::to_string(total) + " inputs are not a multiple of the width " + std::to_string(width));
  napi_value out = nullptr;
  if (napi_create_array_with_length(env, total / width, &out) != napi_ok) return nullptr;
  Fr in[MAX_T];
  for (uint32_t h = 0; h < total / width; h++) {
    for (uint32_t i = 0; i < width; i++) {
      napi_value e = nullptr;
      if (napi_get_element(env, argv[0], h * width + i, &e) != napi_ok) return nullptr;
      if (!readField(env, e, &in[i])) return throwRange(env, "input " + std::to_string(h * width + i) + " is not a field element (a BigInt in [0, r))");
    }
    napi_value x = writeField(env, permute(*w, in));
    if (!x || napi_set_element(env, out, h, x) != napi_ok) return nullptr;
  }
  return out;
}

void freeTables(napi_env, void* data, void*) { delete static_cast<Tables*>(data); }

}  // namespace

#ifdef POA_FIELD_ASM
// ffiasm's assembly calls Fr_fail on an invalid element (never for the raw
// operations used here). Hidden, so its PC-relative call links into a shared object.
extern "C" __attribute__((visibility("hidden"))) void Fr_fail() { abort(); }
#endif

NAPI_MODULE_INIT() {
  napi_set_instance_data(env, new Tables(), freeTables, nullptr);
  napi_property_descriptor props[] = {
      {"setConstants", nullptr, SetConstants, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"hash", nullptr, Hash, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"hashMany", nullptr, HashMany, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}
