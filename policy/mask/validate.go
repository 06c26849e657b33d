package mask

import "strings"

func onlyDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// luhnValid accepts 13-19 digit numbers with a valid Luhn check digit that
// are not one digit repeated.
func luhnValid(s string) bool {
	d := onlyDigits(s)
	if len(d) < 13 || len(d) > 19 || strings.Count(d, d[:1]) == len(d) {
		return false
	}
	sum := 0
	for i := 0; i < len(d); i++ {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// plausiblePhone wants some phone punctuation: a bare run of digits is far
// more often an id, a count or a timestamp than a phone number.
func plausiblePhone(s string) bool {
	return strings.ContainsAny(s, " .-()+")
}

// plausibleSSN rejects numbers the SSA never issues.
func plausibleSSN(s string) bool {
	area, group, serial := s[0:3], s[4:6], s[7:11]
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}
