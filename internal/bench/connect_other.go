//go:build !linux

package bench

import "errors"

func connectCosts(int) (float64, float64, error) {
	return 0, 0, errors.New("connect() measurement needs Linux")
}
