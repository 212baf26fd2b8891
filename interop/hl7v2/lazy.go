package hl7v2

import "sync"

// lazyTree splits fields on first use. Parse leaves a field that contains
// separators but no escape character unsplit, because splitting such a
// field can find no error, so its tree can wait until a reader asks for a
// repetition or component. One lazyTree serves every field of a message,
// and its mutex makes the first split safe under concurrent reads.
type lazyTree struct {
	mu   sync.Mutex
	d    *Delimiters
	u    *unescaper
	pool elementPool
}

// loadChildren returns the children of e, splitting a lazy field first.
func (e *element) loadChildren() []*element {
	if e.lazy != nil && !e.split.Load() {
		e.lazy.splitField(e)
	}
	return e.children
}

// splitField builds the children of the lazy field e once.
func (t *lazyTree) splitField(e *element) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.split.Load() {
		return
	}
	p := &segmentParser{pool: &t.pool, d: t.d, u: t.u}
	built := p.build(e.raw, 0, levelField, location{1})
	e.children = built.children
	e.collapsed = built.collapsed
	e.text = built.text
	e.split.Store(true)
}
