package fhir

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of exportJobs.start, which the kick-off maps to 429 and 503.
var (
	errTooManyExports = errors.New("too many export jobs running")
	errExportsClosed  = errors.New("the handler is closed")
)

// exportJobIDPattern matches the ids that exportJobs.start generates, so
// an id from a URL can be joined to the export folder safely.
var exportJobIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// exportState is the stage of an export job.
type exportState int

const (
	exportRunning exportState = iota
	exportCompleted
	exportFailed
)

// exportJob is one asynchronous bulk data export and its folder of NDJSON
// files, one per resource type.
type exportJob struct {
	id              string
	dir             string
	request         string
	transactionTime time.Time
	cancel          context.CancelFunc
	// done is closed when the job's goroutine has returned, so no file in
	// dir is open for writing any more.
	done chan struct{}
	// written is the number of resources written so far.
	written atomic.Int64

	// The fields below are guarded by exportJobs.mu.
	state   exportState
	counts  map[string]int
	expires time.Time
	timer   *time.Timer
}

// exportJobs is the in-memory registry of export jobs. Its methods are
// safe for concurrent use. Jobs do not survive a restart, and close
// removes their folders.
type exportJobs struct {
	dir       string
	max       int
	retention time.Duration
	log       *slog.Logger
	// ctx is the parent of every job's context, cancelled by close.
	ctx       context.Context
	cancelAll context.CancelFunc

	mu     sync.Mutex
	jobs   map[string]*exportJob
	closed bool
}

func newExportJobs(cfg Config) *exportJobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &exportJobs{
		dir:       cfg.ExportDir,
		max:       cfg.MaxExportJobs,
		retention: cfg.ExportRetention,
		log:       cfg.Logger,
		ctx:       ctx,
		cancelAll: cancel,
		jobs:      map[string]*exportJob{},
	}
}

// exportFunc writes a job's files through open and returns the number of
// resources written per type.
type exportFunc func(ctx context.Context, open func(typ string) (io.Writer, error)) (map[string]int, error)

// start creates a job and its folder and runs export in a new goroutine.
// The job's context keeps the values of parent, such as the actor, but
// not its cancellation, because the job outlives the kick-off request. It
// returns errTooManyExports when the maximum number of jobs is running.
func (m *exportJobs) start(parent context.Context, request string, now time.Time, export exportFunc) (*exportJob, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errExportsClosed
	}
	running := 0
	for _, job := range m.jobs {
		if job.state == exportRunning {
			running++
		}
	}
	if running >= m.max {
		return nil, errTooManyExports
	}

	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	id := hex.EncodeToString(b[:])
	dir := filepath.Join(m.dir, id)
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create export folder: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create folder of export job %s: %w", id, err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	stopClose := context.AfterFunc(m.ctx, cancel)
	job := &exportJob{id: id, dir: dir, request: request, transactionTime: now,
		cancel: func() { stopClose(); cancel() }, done: make(chan struct{})}
	m.jobs[id] = job
	m.log.Info("fhir export started", "export_job", id)
	go m.run(ctx, job, export)
	return job, nil
}

func (m *exportJobs) run(ctx context.Context, job *exportJob, export exportFunc) {
	defer close(job.done)
	counts, err := m.write(ctx, job, export)
	job.cancel() // releases the context; remove may call it again

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.jobs[job.id] != job {
		// The job was deleted or the handler closed while it ran, and the
		// code that removed the job deletes the folder.
		return
	}
	if err != nil {
		job.state = exportFailed
		m.log.Error("fhir export failed", "export_job", job.id, "error", err)
		// The partial files are never served, so they are deleted now.
		// The job stays until the retention ends to report the failure.
		if rmErr := os.RemoveAll(job.dir); rmErr != nil {
			m.log.Error("remove folder of failed fhir export", "export_job", job.id, "error", rmErr)
		}
	} else {
		job.state = exportCompleted
		job.counts = counts
		m.log.Info("fhir export completed", "export_job", job.id, "resources", job.written.Load())
	}
	job.expires = time.Now().Add(m.retention)
	job.timer = time.AfterFunc(m.retention, func() { m.remove(job.id) })
}

// write runs export with a writer per type that buffers the type's file,
// and closes every file before it returns.
func (m *exportJobs) write(ctx context.Context, job *exportJob, export exportFunc) (map[string]int, error) {
	type output struct {
		file *os.File
		buf  *bufio.Writer
	}
	var outputs []output
	open := func(typ string) (io.Writer, error) {
		// typ comes from emr, which only writes resource type names.
		f, err := os.OpenFile(filepath.Join(job.dir, typ+".ndjson"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, err
		}
		o := output{file: f, buf: bufio.NewWriter(f)}
		outputs = append(outputs, o)
		return countingWriter{w: o.buf, lines: &job.written}, nil
	}
	counts, err := export(ctx, open)
	for _, o := range outputs {
		if flushErr := o.buf.Flush(); flushErr != nil && err == nil {
			err = fmt.Errorf("write %s: %w", filepath.Base(o.file.Name()), flushErr)
		}
		if closeErr := o.file.Close(); closeErr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", filepath.Base(o.file.Name()), closeErr)
		}
	}
	return counts, err
}

// countingWriter counts the writes to w, because emr.Service.Export writes
// each resource line with one Write call.
type countingWriter struct {
	w     io.Writer
	lines *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err == nil {
		c.lines.Add(1)
	}
	return n, err
}

// exportSnapshot is a copy of a job's fields guarded by exportJobs.mu.
type exportSnapshot struct {
	job     *exportJob
	state   exportState
	counts  map[string]int
	expires time.Time
}

// get returns the job with id, or false when there is none.
func (m *exportJobs) get(id string) (exportSnapshot, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	job, ok := m.jobs[id]
	if !ok {
		return exportSnapshot{}, false
	}
	return exportSnapshot{job: job, state: job.state, counts: job.counts, expires: job.expires}, true
}

// remove cancels the job with id, waits for its goroutine and deletes its
// folder. It returns false when there is no such job.
func (m *exportJobs) remove(id string) bool {
	m.mu.Lock()
	job, ok := m.jobs[id]
	delete(m.jobs, id)
	m.mu.Unlock()
	if !ok {
		return false
	}
	m.discard(job)
	m.log.Info("fhir export removed", "export_job", id)
	return true
}

func (m *exportJobs) discard(job *exportJob) {
	job.cancel()
	<-job.done
	m.mu.Lock()
	if job.timer != nil {
		job.timer.Stop()
	}
	m.mu.Unlock()
	if err := os.RemoveAll(job.dir); err != nil {
		m.log.Error("remove folder of fhir export", "export_job", job.id, "error", err)
	}
}

// close cancels every job and removes every job folder. Later kick-offs
// get errExportsClosed.
func (m *exportJobs) close() {
	m.mu.Lock()
	m.closed = true
	jobs := m.jobs
	m.jobs = map[string]*exportJob{}
	m.mu.Unlock()
	m.cancelAll()
	for _, job := range jobs {
		m.discard(job)
	}
}
