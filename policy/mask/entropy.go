package mask

import (
	"math"
	"math/bits"
)

// entropyAtMost says whether shannon(s) <= limit. Most values are
// settled by bounds that need no logarithm per byte: the entropy is at
// most log2 of the number of distinct bytes and at least the min-entropy,
// -log2 of the largest byte share. The computed sum is within 1e-12 of the
// true value for any length here, so outside a margin of 1e-9 around the
// limit the bounds give the answer the sum would (TestEntropyBoundsDecideAsTheSum).
func entropyAtMost[T string | []byte](s T, limit float64) bool {
	var counts [256]int32
	distinct, most := 0, int32(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if counts[c] == 0 {
			distinct++
		}
		counts[c]++
		most = max(most, counts[c])
	}
	const margin = 1e-9
	switch {
	case distinct <= 1:
		return 0 <= limit
	case math.Log2(float64(distinct)) < limit-margin:
		return true
	case -math.Log2(float64(most)/float64(len(s))) > limit+margin:
		return false
	}
	return shannon(s) <= limit
}

// shannon is the Shannon entropy of s in bits per byte. The sum runs over
// the bytes present in increasing order, as a loop over all 256 counts
// would, so the result is the same to the last bit.
func shannon[T string | []byte](s T) float64 {
	var counts [256]int32
	var seen [4]uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		counts[c]++
		seen[c>>6] |= 1 << (c & 63)
	}
	n := float64(len(s))
	h := 0.0
	for w, set := range seen {
		for ; set != 0; set &= set - 1 {
			p := float64(counts[w<<6+bits.TrailingZeros64(set)]) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
