//go:build !linux

package gateway

func yieldCPU() {}
