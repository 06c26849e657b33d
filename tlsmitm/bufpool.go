package tlsmitm

import "sync"

// CopyBufferSize is the size of the buffers BufferPool hands out: the size
// httputil.ReverseProxy allocates per request when it has no pool.
const CopyBufferSize = 32 << 10

// BufferPool is an httputil.BufferPool of CopyBufferSize buffers backed by a
// sync.Pool, so a proxied response costs no 32 KiB allocation (and the GC
// work that goes with it) per request. Safe for concurrent use.
type BufferPool struct{ pool sync.Pool }

// NewBufferPool returns an empty pool; buffers are made on demand.
func NewBufferPool() *BufferPool {
	return &BufferPool{pool: sync.Pool{New: func() any { b := make([]byte, CopyBufferSize); return &b }}}
}

// Get returns a CopyBufferSize buffer.
func (p *BufferPool) Get() []byte { return *p.pool.Get().(*[]byte) }

// Put returns buf to the pool; buffers of another size are dropped.
func (p *BufferPool) Put(buf []byte) {
	if cap(buf) != CopyBufferSize {
		return
	}
	buf = buf[:CopyBufferSize]
	p.pool.Put(&buf)
}
