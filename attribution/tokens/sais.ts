// Suffix array by induced sorting (SA-IS: Nong, Zhang & Chan, 2009): O(n)
// time, a few n-sized integer arrays of memory.
//
// Input: T of length n over the integer alphabet [0, K), ending with a unique
// smallest sentinel (T[n-1] = 0, every other T[i] ≥ 1). Output: SA with
// T[SA[0]..] < T[SA[1]..] < … (SA[0] = n - 1, the sentinel).
//
// Outline. Each position is S-type (its suffix is smaller than the next one's)
// or L-type; an LMS position is an S preceded by an L. Sorting the LMS
// substrings by one induced pass, naming them, and sorting the reduced string
// of names (recursively when names repeat) orders the LMS suffixes; a second
// induced pass from those orders every suffix.

export function suffixArray(T: Int32Array, K: number): Int32Array {
  const n = T.length;
  if (n === 0) return new Int32Array(0);
  if (T[n - 1] !== 0) throw new Error("suffixArray: the input must end with the sentinel 0");
  if (n === 1) return Int32Array.of(0);
  return sais(T, K);
}

function sais(T: Int32Array, K: number): Int32Array {
  const n = T.length;
  const SA = new Int32Array(n);
  const isS = new Uint8Array(n);
  isS[n - 1] = 1;
  for (let i = n - 2; i >= 0; i--) isS[i] = T[i] < T[i + 1] || (T[i] === T[i + 1] && isS[i + 1] === 1) ? 1 : 0;
  const isLMS = (i: number) => i > 0 && isS[i] === 1 && isS[i - 1] === 0;

  const counts = new Int32Array(K);
  for (let i = 0; i < n; i++) counts[T[i]]++;
  const bucket = new Int32Array(K);
  const heads = () => {
    for (let c = 0, sum = 0; c < K; c++) { bucket[c] = sum; sum += counts[c]; }
  };
  const tails = () => {
    for (let c = 0, sum = 0; c < K; c++) { sum += counts[c]; bucket[c] = sum; }
  };
  const induce = () => {
    heads();
    for (let i = 0; i < n; i++) {
      const j = SA[i] - 1;
      if (SA[i] > 0 && isS[j] === 0) SA[bucket[T[j]]++] = j;
    }
    tails();
    for (let i = n - 1; i >= 0; i--) {
      const j = SA[i] - 1;
      if (SA[i] > 0 && isS[j] === 1) SA[--bucket[T[j]]] = j;
    }
  };

  // 1. Sort the LMS substrings: LMS positions at their buckets' ends, then induce.
  SA.fill(-1);
  tails();
  for (let i = 1; i < n; i++) if (isLMS(i)) SA[--bucket[T[i]]] = i;
  induce();

  // 2. Name the sorted LMS substrings (equal substrings share a name).
  let n1 = 0;
  for (let i = 0; i < n; i++) if (isLMS(SA[i])) SA[n1++] = SA[i];
  SA.fill(-1, n1);
  let name = 0;
  let prev = -1;
  for (let i = 0; i < n1; i++) {
    const pos = SA[i];
    let diff = false;
    for (let d = 0; d < n; d++) {
      if (prev === -1 || T[pos + d] !== T[prev + d] || isS[pos + d] !== isS[prev + d]) {
        diff = true;
        break;
      } else if (d > 0 && (isLMS(pos + d) || isLMS(prev + d))) {
        break;
      }
    }
    if (diff) { name++; prev = pos; }
    SA[n1 + (pos >> 1)] = name - 1; // LMS positions are ≥ 2 apart: pos >> 1 is unique
  }
  const s1 = new Int32Array(n1);
  for (let i = n1, j = 0; i < n; i++) if (SA[i] >= 0) s1[j++] = SA[i];

  // 3. Order the LMS suffixes: directly when names are unique, else recursively.
  let sa1: Int32Array;
  if (name < n1) {
    sa1 = sais(s1, name);
  } else {
    sa1 = new Int32Array(n1);
    for (let i = 0; i < n1; i++) sa1[s1[i]] = i;
  }

  // 4. Induce every suffix from the sorted LMS suffixes.
  const lms = new Int32Array(n1);
  for (let i = 1, j = 0; i < n; i++) if (isLMS(i)) lms[j++] = i;
  SA.fill(-1);
  tails();
  for (let i = n1 - 1; i >= 0; i--) {
    const j = lms[sa1[i]];
    SA[--bucket[T[j]]] = j;
  }
  induce();
  return SA;
}
