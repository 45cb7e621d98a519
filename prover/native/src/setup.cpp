// snarkjs's zkey_new.js, natively (see setup.hpp): the same sections, in the
// same order, with the same bytes.
//
//   .r1cs: 1 header: n8, prime, nWires, nPubOut, nPubIn, nPrvIn, nLabels u64,
//          nConstraints | 2 constraints: per constraint A, B, C, each a count
//          then (wire u32, coefficient 32 bytes, normal form) terms.
//   .ptau (prepared, N = 2^power): 2 τ^i·G1, i < 2N−1 | 3 τ^i·G2, i < N |
//          4 α, 5 β times τ^i·G1 | 6 β·G2 | 12 Lagrange G1 for domains 1…2N |
//          13 G2, 14 α·, 15 β·G1 Lagrange for domains 1…N (the domain of size
//          M starts at point M − 1).
#include "setup.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>

#include "binfile.hpp"
#include "blake2b.hpp"
#include "msm.hpp"

namespace poa {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// The r1cs's wires are 1 (the constant), the public outputs and inputs, then the private ones.
struct R1cs {
  std::unique_ptr<BinFile> file;
  uint32_t wires, n_public, constraints;
  Section body;
};

R1cs read_r1cs(const std::string& path) {
  R1cs r;
  r.file.reset(BinFile::map(path, "r1cs", "r1cs " + path));
  Section h = r.file->section(1, "header", 4 + 32 + 4 * 4 + 8 + 4);
  if (read_u32(h.data) != 32 || memcmp(h.data + 4, Fr::P.v, 32) != 0) throw InputError("r1cs " + path + " is not over BN254's scalar field");
  const uint8_t* p = h.data + 36;
  r.wires = read_u32(p);
  r.n_public = read_u32(p + 4) + read_u32(p + 8);
  r.constraints = read_u32(p + 24);
  r.body = r.file->section(2, "constraints");
  if (r.n_public + 1 > r.wires) throw InputError("r1cs " + path + " is corrupt: more public signals than wires");
  return r;
}

struct Ptau {
  std::unique_ptr<BinFile> file;
  uint32_t power;
  size_t n;  // 2^power
  const G1Affine *tau_g1, *alpha_g1, *beta_g1, *lagrange_g1, *lagrange_alpha, *lagrange_beta;
  const G2Affine *tau_g2, *beta_g2, *lagrange_g2;
};

Ptau read_ptau(const std::string& path) {
  Ptau t;
  t.file.reset(BinFile::map(path, "ptau", "ptau " + path));
  const BinFile& f = *t.file;
  Section h = f.section(1, "header", 4 + 32 + 8);
  if (read_u32(h.data) != 32 || memcmp(h.data + 4, Fq::P.v, 32) != 0) throw InputError("ptau " + path + " is not for BN254");
  t.power = read_u32(h.data + 36);
  if (t.power < 1 || t.power > 27) throw InputError("ptau " + path + ": power " + std::to_string(t.power) + " is out of range");
  t.n = (size_t)1 << t.power;
  t.tau_g1 = (const G1Affine*)f.section(2, "tauG1", (2 * t.n - 1) * 64).data;
  t.tau_g2 = (const G2Affine*)f.section(3, "tauG2", t.n * 128).data;
  t.alpha_g1 = (const G1Affine*)f.section(4, "alphaTauG1", t.n * 64).data;
  t.beta_g1 = (const G1Affine*)f.section(5, "betaTauG1", t.n * 64).data;
  t.beta_g2 = (const G2Affine*)f.section(6, "betaG2", 128).data;
  if (!f.has(12)) throw InputError("ptau " + path + " is not prepared for phase 2 (no Lagrange sections): run `snarkjs powersoftau prepare phase2`");
  t.lagrange_g1 = (const G1Affine*)f.section(12, "lagrange tauG1", (4 * t.n - 1) * 64).data;
  t.lagrange_g2 = (const G2Affine*)f.section(13, "lagrange tauG2", (2 * t.n - 1) * 128).data;
  t.lagrange_alpha = (const G1Affine*)f.section(14, "lagrange alphaTauG1", (2 * t.n - 1) * 64).data;
  t.lagrange_beta = (const G1Affine*)f.section(15, "lagrange betaTauG1", (2 * t.n - 1) * 64).data;
  return t;
}

// One term of a proving-key point: coefficient × (kind's Lagrange point of a constraint).
enum Kind : uint32_t { TAU = 0, ALPHA = 1, BETA = 2 };
struct Term {
  uint32_t constraint;
  Kind kind;
  const u64* coef;  // normal form in the r1cs; nullptr = 1
};

// Terms grouped by wire (compressed rows).
struct Rows {
  std::vector<uint32_t> start;
  std::vector<Term> terms;
  explicit Rows(size_t wires) : start(wires + 1, 0) {}
  void count(uint32_t w) { start[w + 1]++; }
  void allocate() {
    for (size_t i = 1; i < start.size(); i++) start[i] += start[i - 1];
    terms.resize(start.back());
    fill_ = std::vector<uint32_t>(start.begin(), start.end() - 1);
  }
  void put(uint32_t w, Term t) { terms[fill_[w]++] = t; }

 private:
  std::vector<uint32_t> fill_;
};

struct Coefficient44 {
  uint32_t matrix, constraint, signal;
  u64 value[4];
} __attribute__((packed));

// All the per-wire rows, and section 4 (the coefficients of A and B, value·R² mod r, in order).
struct Constraints {
  Rows a, b, cic;  // cic: the C point of a private wire, the IC point of a public one
  std::vector<Coefficient44> coefficients;
  explicit Constraints(size_t wires) : a(wires), b(wires), cic(wires) {}
};

Constraints read_constraints(const R1cs& r) {
  Constraints out(r.wires);
  const Fr r3 = Fr{{Fr::R2.v[0], Fr::R2.v[1], Fr::R2.v[2], Fr::R2.v[3]}} * Fr{{Fr::R2.v[0], Fr::R2.v[1], Fr::R2.v[2], Fr::R2.v[3]}};
  for (int pass = 0; pass < 2; pass++) {
    const uint8_t *p = r.body.data, *end = r.body.data + r.body.size;
    auto need = [&](size_t n, uint32_t c) {
      if ((size_t)(end - p) < n) throw InputError("r1cs is truncated in constraint " + std::to_string(c));
    };
    for (uint32_t c = 0; c < r.constraints; c++) {
      for (uint32_t m = 0; m < 3; m++) {
        need(4, c);
        uint32_t n = read_u32(p);
        p += 4;
        need((size_t)n * 36, c);
        for (uint32_t i = 0; i < n; i++, p += 36) {
          uint32_t w = read_u32(p);
          const u64* coef = (const u64*)(p + 4);
          if (pass == 0) {
            if (w >= r.wires) throw InputError("r1cs is corrupt: constraint " + std::to_string(c) + " uses wire " + std::to_string(w) + " of " + std::to_string(r.wires));
            if (!Fr::canonical(coef)) throw InputError("r1cs is corrupt: a coefficient of constraint " + std::to_string(c) + " is not below the prime");
            if (m == 0) out.a.count(w);
            if (m == 1) out.b.count(w);
            out.cic.count(w);
            continue;
          }
          if (m == 0) out.a.put(w, {c, TAU, coef});
          if (m == 1) out.b.put(w, {c, TAU, coef});
          out.cic.put(w, {c, m == 0 ? BETA : m == 1 ? ALPHA : TAU, coef});
          if (m < 2) {
            Coefficient44 k{m, c, w, {}};
            Fr v = Fr{{coef[0], coef[1], coef[2], coef[3]}} * r3;  // c·R³·R⁻¹ = c·R²
            memcpy(k.value, v.v, 32);
            out.coefficients.push_back(k);
          }
        }
      }
    }
    if (p != end) throw InputError("r1cs is corrupt: " + std::to_string(end - p) + " bytes follow the last constraint");
    // The public signals' extra constraints: w·1 = 0 at n + w, so that A of each public signal is independent.
    for (uint32_t w = 0; w <= r.n_public; w++) {
      if (pass == 0) {
        out.a.count(w);
        out.cic.count(w);
        continue;
      }
      out.a.put(w, {r.constraints + w, TAU, nullptr});
      out.cic.put(w, {r.constraints + w, BETA, nullptr});
      Coefficient44 k{0, r.constraints + w, w, {}};
      memcpy(k.value, Fr::R2.v, 32);
      out.coefficients.push_back(k);
    }
    if (pass == 0) {
      out.a.allocate();
      out.b.allocate();
      out.cic.allocate();
    }
  }
  return out;
}

constexpr Limbs half(const Limbs& a) {
  Limbs h{};
  for (int i = 0; i < 4; i++) h.v[i] = (a.v[i] >> 1) | (i < 3 ? a.v[i + 1] << 63 : 0);
  return h;
}
constexpr Limbs HALF_R = half(sub_limbs(Fr::P, Limbs{{1, 0, 0, 0}}));  // (r − 1)/2

// Jacobian → affine for many points with one inversion (Montgomery's trick).
template <class F>
void batch_to_affine(const Jacobian<F>* in, size_t n, Affine<F>* out) {
  std::vector<F> prefix(n);
  F acc = F::one();
  for (size_t i = 0; i < n; i++) {
    prefix[i] = acc;
    if (!in[i].is_infinity()) acc = acc * in[i].z;
  }
  F inv = acc.inv();
  for (size_t i = n; i-- > 0;) {
    if (in[i].is_infinity()) {
      out[i] = {F::zero(), F::zero()};
      continue;
    }
    F zi = inv * prefix[i];
    inv = inv * in[i].z;
    F zi2 = zi.sqr();
    out[i] = {in[i].x * zi2, in[i].y * zi2 * zi};
  }
}

// Width-5 NAF of k: digits in {0, ±1, ±3, …, ±15}, at most one nonzero in
// any 5 consecutive; returns the digit count (bit length + 1 at most).
int wnaf5(Limbs k, int8_t* out) {
  int n = 0;
  while ((k.v[0] | k.v[1] | k.v[2] | k.v[3]) != 0) {
    int d = 0;
    if (k.v[0] & 1) {
      d = (int)(k.v[0] & 31);
      if (d >= 16) d -= 32;
      // k −= d (d odd, |d| < 16): only the low limb's borrow or carry ripples.
      u128 acc = (u128)k.v[0] - (u128)(int64_t)d;
      if (d < 0) {
        k.v[0] = (u64)acc;
        for (int i = 1; i < 4 && (u64)(acc >> 64); i++) acc = (u128)k.v[i] + 1, k.v[i] = (u64)acc;
      } else {
        bool borrow = k.v[0] < (u64)d;
        k.v[0] -= (u64)d;
        for (int i = 1; i < 4 && borrow; i++) borrow = k.v[i]-- == 0;
      }
    }
    out[n++] = (int8_t)d;
    for (int i = 0; i < 4; i++) k.v[i] = (k.v[i] >> 1) | (i < 3 ? k.v[i + 1] << 63 : 0);
  }
  return n;
}

// Σ coef·P over a wire's terms: Straus's method for a few terms (one chain of
// doublings shared by all of them, width-5 NAF digits against each point's
// odd multiples P, 3P, …, 15P, made affine with one inversion so that each
// addition is a mixed one), Pippenger for many. A coefficient above r/2 is
// used as −(r − coef): −1 and the other small negatives become a few bits.
template <class F>
struct Composer {
  std::vector<Affine<F>> pts;
  std::vector<u64> scalars;
  std::vector<int8_t> naf;
  std::vector<int> naf_len;
  std::vector<Jacobian<F>> odd;
  std::vector<Affine<F>> table;

  Jacobian<F> sum(const Term* t, size_t n, const Affine<F>* const bases[3]) {
    pts.resize(n);
    scalars.resize(4 * n);
    Jacobian<F> ones = Jacobian<F>::infinity();
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
      Affine<F> p = bases[t[i].kind][t[i].constraint];
      Limbs k{{1, 0, 0, 0}};
      if (t[i].coef) memcpy(k.v, t[i].coef, 32);
      if (!geq(HALF_R, k)) {
        k = sub_limbs(Fr::P, k);
        if (!p.is_infinity()) p.y = p.y.neg();
      }
      int bits = bit_length(k.v);
      if (bits == 0 || p.is_infinity()) continue;
      if (bits == 1) {
        ones = ones.add_affine(p);
        continue;
      }
      pts[m] = p;
      memcpy(&scalars[4 * m], k.v, 32);
      m++;
    }
    if (m == 0) return ones;
    // Straus costs ~600 multiplications a term; Pippenger ~250 plus ~2^c·16 a window: it wins from several hundred.
    if (m > 512) return ones.add(msm(pts.data(), scalars.data(), m, 1));
    naf.assign(m * 257, 0);
    naf_len.resize(m);
    odd.resize(8 * m);
    table.resize(8 * m);
    int max_len = 0;
    for (size_t i = 0; i < m; i++) {
      Limbs k;
      memcpy(k.v, &scalars[4 * i], 32);
      naf_len[i] = wnaf5(k, &naf[257 * i]);
      max_len = std::max(max_len, naf_len[i]);
      Jacobian<F>* row = &odd[8 * i];
      row[0] = Jacobian<F>::from_affine(pts[i]);
      Jacobian<F> twice = row[0].dbl();
      for (int d = 1; d < 8; d++) row[d] = twice.add(row[d - 1]);
    }
    batch_to_affine(odd.data(), 8 * m, table.data());
    Jacobian<F> acc = Jacobian<F>::infinity();
    for (int b = max_len - 1; b >= 0; b--) {
      acc = acc.dbl();
      for (size_t i = 0; i < m; i++) {
        int d = b < naf_len[i] ? naf[257 * i + b] : 0;
        if (d > 0) acc = acc.add_affine(table[8 * i + (d >> 1)]);
        else if (d < 0) {
          Affine<F> q = table[8 * i + ((-d) >> 1)];
          q.y = q.y.neg();
          acc = acc.add_affine(q);
        }
      }
    }
    return acc.add(ones);
  }
};

// Points of wires [first, first + count) into out, blocks of wires handed out to threads as they finish.
template <class F>
void compose(const Rows& rows, size_t first, size_t count, const Affine<F>* const bases[3], Affine<F>* out, int threads) {
  constexpr size_t BLOCK = 256;
  std::atomic<size_t> next{0};
  parallel_for((size_t)threads, threads, [&](size_t, size_t, int) {
    std::vector<Jacobian<F>> sums(BLOCK);
    Composer<F> composer;
    for (size_t lo; (lo = next.fetch_add(BLOCK)) < count;) {
      size_t hi = std::min(count, lo + BLOCK);
      for (size_t i = lo; i < hi; i++) {
        size_t w = first + i;
        sums[i - lo] = composer.sum(&rows.terms[rows.start[w]], rows.start[w + 1] - rows.start[w], bases);
      }
      batch_to_affine(sums.data(), hi - lo, out + lo);
    }
  });
}

// snarkjs hashes points "uncompressed": each coordinate big-endian in normal
// form (for Fq2 the 64 bytes reversed: c1 then c0); infinity as zeros.
template <class F>
void hash_points(Blake2b512& h, const Affine<F>* pts, size_t n) {
  constexpr size_t W = sizeof(F);
  std::vector<uint8_t> buf(1 << 16);
  size_t per = buf.size() / (2 * W);
  for (size_t lo = 0; lo < n; lo += per) {
    size_t hi = std::min(n, lo + per);
    for (size_t i = lo; i < hi; i++) {
      uint8_t* o = &buf[(i - lo) * 2 * W];
      if (pts[i].is_infinity()) {
        memset(o, 0, 2 * W);
        continue;
      }
      const F* xy[2] = {&pts[i].x, &pts[i].y};
      for (int c = 0; c < 2; c++) {
        F normal;
        if constexpr (W == 32) normal = xy[c]->to_normal();
        else normal = F{xy[c]->c0.to_normal(), xy[c]->c1.to_normal()};
        const uint8_t* le = (const uint8_t*)&normal;
        for (size_t b = 0; b < W; b++) o[c * W + b] = le[W - 1 - b];
      }
    }
    h.update(buf.data(), (hi - lo) * 2 * W);
  }
}

void hash_u32_be(Blake2b512& h, uint32_t v) {
  uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  h.update(b, 4);
}

// The output file, mapped for writing, with its sections laid out in snarkjs's order.
class ZkeyWriter {
 public:
  ZkeyWriter(const std::string& path, const std::vector<std::pair<uint32_t, size_t>>& sections) : path_(path), tmp_(path + ".partial") {
    size_ = 12;
    for (auto& s : sections) {
      offsets_[s.first] = size_ + 12;
      size_ += 12 + s.second;
    }
    int fd = open(tmp_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) throw InputError("cannot create " + tmp_ + ": " + strerror(errno));
    if (ftruncate(fd, (off_t)size_) != 0) {
      close(fd);
      throw InputError("cannot size " + tmp_ + ": " + strerror(errno));
    }
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) throw InputError("cannot map " + tmp_ + ": " + strerror(errno));
    data_ = (uint8_t*)p;
    memcpy(data_, "zkey", 4);
    uint32_t version = 1, n = (uint32_t)sections.size();
    memcpy(data_ + 4, &version, 4);
    memcpy(data_ + 8, &n, 4);
    for (auto& s : sections) {
      uint8_t* hdr = data_ + offsets_[s.first] - 12;
      uint64_t len = s.second;
      memcpy(hdr, &s.first, 4);
      memcpy(hdr + 4, &len, 8);
    }
  }
  ~ZkeyWriter() {
    if (data_) {
      munmap(data_, size_);
      unlink(tmp_.c_str());
    }
  }
  uint8_t* section(uint32_t id) { return data_ + offsets_.at(id); }
  void commit() {
    if (msync(data_, size_, MS_SYNC) != 0) throw InputError("cannot write " + tmp_ + ": " + strerror(errno));
    munmap(data_, size_);
    data_ = nullptr;
    if (rename(tmp_.c_str(), path_.c_str()) != 0) throw InputError("cannot rename " + tmp_ + " to " + path_ + ": " + strerror(errno));
  }

 private:
  std::string path_, tmp_;
  uint8_t* data_ = nullptr;
  size_t size_;
  std::map<uint32_t, size_t> offsets_;
};

int floor_log2(uint64_t v) { return 63 - __builtin_clzll(v); }

}  // namespace

SetupStats new_zkey(const std::string& r1cs_path, const std::string& ptau_path, const std::string& zkey_path, int threads) {
  auto t0 = Clock::now();
  SetupStats st{};
  R1cs r = read_r1cs(r1cs_path);
  Ptau t = read_ptau(ptau_path);
  // snarkjs: cirPower = log2(nConstraints + nPublic) + 1 (floor), room for the public signals' constraints.
  int power = floor_log2((uint64_t)r.constraints + r.n_public) + 1;
  if ((uint32_t)power > t.power) {
    throw InputError("the circuit needs a powers-of-tau of 2^" + std::to_string(power) + " (" + std::to_string(r.constraints) + " constraints), " + ptau_path + " is 2^" + std::to_string(t.power));
  }
  size_t d = (size_t)1 << power;
  Constraints cs = read_constraints(r);
  st.constraints = r.constraints;
  st.wires = r.wires;
  st.n_public = r.n_public;
  st.domain_size = (uint32_t)d;
  st.terms = cs.a.terms.size() + 2 * cs.b.terms.size() + cs.cic.terms.size();
  st.read_ms = ms_since(t0);

  const size_t n_ic = r.n_public + 1, n_c = r.wires - n_ic;
  ZkeyWriter out(zkey_path, {{1, 4}, {2, 36 + 36 + 12 + 64 * 3 + 128 * 3}, {4, 4 + cs.coefficients.size() * 44}, {3, n_ic * 64},
                             {9, d * 64}, {8, n_c * 64}, {5, (size_t)r.wires * 64}, {6, (size_t)r.wires * 64}, {7, (size_t)r.wires * 128}, {10, 64 + 4}});
  uint32_t groth = 1;
  memcpy(out.section(1), &groth, 4);

  // Header: the primes, sizes, α1, β1, β2 from the ptau; γ2 = δ2 = G2 and δ1 = G1 (no contribution yet).
  const G1Affine g1 = t.tau_g1[0];
  const G2Affine g2 = t.tau_g2[0];
  uint8_t* p = out.section(2);
  auto put = [&](const void* src, size_t n) {
    memcpy(p, src, n);
    p += n;
  };
  uint32_t n8 = 32, n_public = r.n_public, domain = (uint32_t)d;
  put(&n8, 4), put(Fq::P.v, 32), put(&n8, 4), put(Fr::P.v, 32), put(&r.wires, 4), put(&n_public, 4), put(&domain, 4);
  put(&t.alpha_g1[0], 64), put(&t.beta_g1[0], 64), put(t.beta_g2, 128), put(&g2, 128), put(&g1, 64), put(&g2, 128);

  uint32_t n_coef = (uint32_t)cs.coefficients.size();
  memcpy(out.section(4), &n_coef, 4);
  memcpy(out.section(4) + 4, cs.coefficients.data(), cs.coefficients.size() * 44);

  // The Lagrange points of this domain: each section's block for size d starts at point d − 1.
  auto t1 = Clock::now();
  const G1Affine* const g1_bases[3] = {t.lagrange_g1 + (d - 1), t.lagrange_alpha + (d - 1), t.lagrange_beta + (d - 1)};
  const G2Affine* const g2_bases[3] = {t.lagrange_g2 + (d - 1), nullptr, nullptr};
  compose(cs.cic, 0, n_ic, g1_bases, (G1Affine*)out.section(3), threads);
  compose(cs.cic, n_ic, n_c, g1_bases, (G1Affine*)out.section(8), threads);
  compose(cs.a, 0, r.wires, g1_bases, (G1Affine*)out.section(5), threads);
  compose(cs.b, 0, r.wires, g1_bases, (G1Affine*)out.section(6), threads);
  compose(cs.b, 0, r.wires, g2_bases, (G2Affine*)out.section(7), threads);
  // H: the odd points of the doubled domain's Lagrange basis (snarkjs's coset convention; needs 2d ≤ 2N).
  G1Affine* h = (G1Affine*)out.section(9);
  const G1Affine* doubled = t.lagrange_g1 + (2 * d - 1);
  for (size_t i = 0; i < d; i++) h[i] = doubled[2 * i + 1];
  st.compose_ms = ms_since(t1);

  // csHash, in snarkjs's order: the header points, IC, the H commitment (τ^(i+d) − τ^i)·G1, C, A, B1, B2.
  auto t2 = Clock::now();
  Blake2b512 hash;
  hash_points(hash, &t.alpha_g1[0], 1), hash_points(hash, &t.beta_g1[0], 1), hash_points(hash, t.beta_g2, 1);
  hash_points(hash, &g2, 1), hash_points(hash, &g1, 1), hash_points(hash, &g2, 1);
  hash_u32_be(hash, (uint32_t)n_ic);
  hash_points(hash, (const G1Affine*)out.section(3), n_ic);
  // snarkjs hashes d − 1 points up to 2^14, else whole chunks of 2^14: d points. The last may lie past tauG1 (2N − 1 points).
  size_t n_h = d - 1 <= (1u << 14) ? d - 1 : d;
  st.cs_hash_matches_snarkjs = n_h + d <= 2 * t.n - 1;
  n_h = std::min(n_h, 2 * t.n - 1 - d);
  std::vector<G1Affine> hp(n_h);
  parallel_for(n_h, threads, [&](size_t lo, size_t hi, int) {
    std::vector<G1> diff(hi - lo);
    for (size_t i = lo; i < hi; i++) {
      G1Affine neg = t.tau_g1[i];
      if (!neg.is_infinity()) neg.y = neg.y.neg();
      diff[i - lo] = G1::from_affine(t.tau_g1[i + d]).add_affine(neg);
    }
    batch_to_affine(diff.data(), hi - lo, hp.data() + lo);
  });
  hash_u32_be(hash, (uint32_t)(d - 1));
  hash_points(hash, hp.data(), n_h);
  hash_u32_be(hash, (uint32_t)n_c);
  hash_points(hash, (const G1Affine*)out.section(8), n_c);
  hash_u32_be(hash, r.wires);
  hash_points(hash, (const G1Affine*)out.section(5), r.wires);
  hash_u32_be(hash, r.wires);
  hash_points(hash, (const G1Affine*)out.section(6), r.wires);
  hash_u32_be(hash, r.wires);
  hash_points(hash, (const G2Affine*)out.section(7), r.wires);
  hash.digest(st.cs_hash);
  memcpy(out.section(10), st.cs_hash, 64);
  memset(out.section(10) + 64, 0, 4);  // no contributions
  st.hash_ms = ms_since(t2);
  out.commit();
  st.total_ms = ms_since(t0);
  return st;
}

}  // namespace poa
