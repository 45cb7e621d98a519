// poa-groth16: a snarkjs .zkey and .wtns in, a Groth16 proof and the public
// signals out, in snarkjs's JSON.
//
//   poa-groth16 <circuit.zkey> <witness.wtns | -> [--proof proof.json --public public.json]
//               [--threads N] [--profile]
//   poa-groth16 setup <circuit.r1cs> <prepared.ptau> <out.zkey> [--threads N]
//
// `setup` writes the initial proving key (snarkjs's `zkey new`; see setup.hpp)
// and prints {"csHash": hex, "constraints": …, timings} on stdout.
//
// Without --proof, prints {"proof": …, "publicSignals": […]} on stdout. With
// --profile, prints one line "profile {json}" of stage timings on stderr.
// Exit status: 0 proved, 1 the input cannot be proved (the message says why),
// 2 usage, 3 an internal failure.
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "groth16.hpp"
#include "setup.hpp"

using namespace poa;

namespace {

std::string decimal(Limbs x) {
  if ((x.v[0] | x.v[1] | x.v[2] | x.v[3]) == 0) return "0";
  std::string out;
  const u64 base = 10000000000000000000ULL;  // 10^19
  while (x.v[0] | x.v[1] | x.v[2] | x.v[3]) {
    u128 rem = 0;
    for (int i = 3; i >= 0; i--) {
      u128 cur = (rem << 64) | x.v[i];
      x.v[i] = (u64)(cur / base);
      rem = cur % base;
    }
    bool last = (x.v[0] | x.v[1] | x.v[2] | x.v[3]) == 0;
    std::string digits = std::to_string((u64)rem);
    if (!last) digits = std::string(19 - digits.size(), '0') + digits;
    out = digits + out;
  }
  return out;
}

std::string q(const Fq& f) {
  Fq n = f.to_normal();
  return "\"" + decimal(Limbs{{n.v[0], n.v[1], n.v[2], n.v[3]}}) + "\"";
}

// snarkjs's G1.toObject/G2.toObject of an affine point: [x, y, 1] (infinity [0, 1, 0]).
std::string g1_json(const G1Affine& p) {
  if (p.is_infinity()) return "[\"0\",\"1\",\"0\"]";
  return "[" + q(p.x) + "," + q(p.y) + ",\"1\"]";
}
std::string g2_json(const G2Affine& p) {
  if (p.is_infinity()) return "[[\"0\",\"0\"],[\"1\",\"0\"],[\"0\",\"0\"]]";
  return "[[" + q(p.x.c0) + "," + q(p.x.c1) + "],[" + q(p.y.c0) + "," + q(p.y.c1) + "],[\"1\",\"0\"]]";
}

std::string proof_json(const Proof& p) {
  return "{\"pi_a\":" + g1_json(p.a) + ",\"pi_b\":" + g2_json(p.b) + ",\"pi_c\":" + g1_json(p.c) + ",\"protocol\":\"groth16\",\"curve\":\"bn128\"}";
}

std::string public_json(const Proof& p) {
  std::string s = "[";
  for (size_t i = 0; i < p.public_signals.size(); i++) s += (i ? ",\"" : "\"") + decimal(p.public_signals[i]) + "\"";
  return s + "]";
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::vector<uint8_t> out;
  FILE* f = path == "-" ? stdin : fopen(path.c_str(), "rb");
  if (!f) throw InputError("witness " + path + " cannot be opened: " + strerror(errno));
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  if (f != stdin) fclose(f);
  return out;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream o(path, std::ios::binary);
  o << text;
  if (!o) throw InputError("cannot write " + path);
}

int usage() {
  std::cerr << "usage: poa-groth16 <circuit.zkey> <witness.wtns | -> [--proof proof.json --public public.json] [--threads N] [--profile]\n"
               "       poa-groth16 setup <circuit.r1cs> <prepared.ptau> <out.zkey> [--threads N]\n";
  return 2;
}

std::string hex(const uint8_t* b, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; i++) s += {digits[b[i] >> 4], digits[b[i] & 15]};
  return s;
}

int setup_main(const std::vector<std::string>& pos, int threads) {
  if (pos.size() != 4) return usage();
  SetupStats st = new_zkey(pos[1], pos[2], pos[3], threads);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::printf("{\"peakMiB\":%ld,\"csHash\":\"%s\",\"csHashMatchesSnarkjs\":%s,\"constraints\":%u,\"wires\":%u,\"public\":%u,\"domainSize\":%u,\"terms\":%zu,"
              "\"readMs\":%.1f,\"composeMs\":%.1f,\"hashMs\":%.1f,\"totalMs\":%.1f,\"threads\":%d}\n",
              ru.ru_maxrss / 1024, hex(st.cs_hash, 64).c_str(), st.cs_hash_matches_snarkjs ? "true" : "false", st.constraints, st.wires, st.n_public, st.domain_size, st.terms,
              st.read_ms, st.compose_ms, st.hash_ms, st.total_ms, threads);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> pos;
  std::string proof_path, public_path;
  int threads = (int)std::max(1u, std::thread::hardware_concurrency());
  bool profile_out = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--proof" && i + 1 < argc) proof_path = argv[++i];
    else if (a == "--public" && i + 1 < argc) public_path = argv[++i];
    else if (a == "--threads" && i + 1 < argc) threads = std::max(1, atoi(argv[++i]));
    else if (a == "--profile") profile_out = true;
    else if (a.rfind("--", 0) == 0) return usage();
    else pos.push_back(a);
  }
  try {
    if (!pos.empty() && pos[0] == "setup") return setup_main(pos, threads);
    if (pos.size() != 2 || proof_path.empty() != public_path.empty()) return usage();
    Profile profile;
    auto t0 = std::chrono::steady_clock::now();
    ProvingKey key = read_zkey(pos[0], threads);
    Witness w = read_witness(read_all(pos[1]), key);
    profile.read_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    Proof p = prove(key, w, threads, profile);
    if (proof_path.empty()) {
      std::cout << "{\"proof\":" << proof_json(p) << ",\"publicSignals\":" << public_json(p) << "}\n";
    } else {
      write_file(proof_path, proof_json(p) + "\n");
      write_file(public_path, public_json(p) + "\n");
    }
    if (profile_out) {
      struct rusage ru;
      getrusage(RUSAGE_SELF, &ru);  // ru_maxrss: peak resident set, KiB (the mapped zkey pages it touched included)
      // CPU time over all threads (user + system): what the proof cost, however busy the machine was.
      double cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
      std::fprintf(stderr, "profile {\"readMs\":%.1f,\"abcMs\":%.1f,\"fftMs\":%.1f,\"msmG1Ms\":%.1f,\"msmG2Ms\":%.1f,\"proveMs\":%.1f,\"cpuMs\":%.1f,\"threads\":%d,\"peakMiB\":%ld}\n",
                   profile.read_ms, profile.abc_ms, profile.fft_ms, profile.msm_g1_ms, profile.msm_g2_ms, profile.total_ms, cpu_ms, threads, ru.ru_maxrss / 1024);
    }
    return 0;
  } catch (const InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return 3;
  }
}

#ifdef POA_FIELD_ASM
// ffiasm's assembly calls these on its slow paths for the (unused) non-raw forms.
extern "C" void Fq_fail() { abort(); }
extern "C" void Fr_fail() { abort(); }
#endif
