package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/emr"
)

// maxImportFile bounds one imported file, which is read whole.
const maxImportFile = 1 << 30

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "import FHIR Bundles, resources and NDJSON files",
		ArgsUsage: "PATH...",
		Description: "Each PATH is a .json file (a Bundle or one resource), an .ndjson file (one resource a line)\n" +
			"or a folder searched for such files. Each file is imported in one transaction.",
		Flags: []cli.Flag{
			dbFlag(),
			masterKeyFlag(),
			&cli.IntFlag{Name: "workers", Value: 2, Usage: "files prepared at the same time"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return errors.New("import: name at least one file or folder")
			}
			log, err := newLogger(c)
			if err != nil {
				return err
			}
			db, svc, err := openServiceKeys(c.Context, c.String("db"), emr.Config{Logger: log}, masterKeyFrom(c))
			if err != nil {
				return err
			}
			defer db.Close()
			files, err := importFiles(c.Args().Slice())
			if err != nil {
				return err
			}
			ctx := emr.ContextWithActor(c.Context, "system/nexusd-import")
			rep := runImport(ctx, svc, files, c.Int("workers"), c.App.Writer, c.App.ErrWriter)
			rep.print(c.App.Writer)
			if err := db.Analyze(c.Context); err != nil {
				log.Warn("refreshing query planner statistics failed", "err", err)
			}
			if rep.failed > 0 {
				return fmt.Errorf("import: %d of %d files failed", rep.failed, len(files))
			}
			return nil
		},
	}
}

// importFiles expands folders into the .json and .ndjson files they
// contain, in lexical order.
func importFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".ndjson")) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
	}
	sort.Strings(out)
	return out, nil
}

type importReport struct {
	mu        sync.Mutex
	total     *emr.ImportResult
	failed    int
	resources int
	elapsed   time.Duration
}

func runImport(ctx context.Context, svc *emr.Service, files []string, workers int, out, errOut io.Writer) *importReport {
	rep := &importReport{total: &emr.ImportResult{Created: map[string]int{}, Updated: map[string]int{}, Unchanged: map[string]int{}}}
	progress := newProgress(out, len(files))
	start := time.Now()
	jobs := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < max(1, workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				res, err := importFile(ctx, svc, f)
				rep.mu.Lock()
				if res != nil {
					rep.total.Add(res)
				}
				if err != nil {
					rep.failed++
					progress.clear()
					fmt.Fprintf(errOut, "%s: %v\n", f, describe(err))
				}
				progress.step(f)
				rep.mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	progress.finish()
	rep.elapsed = time.Since(start)
	return rep
}

// describe renders an import error with the entry index and element paths,
// which carry no patient data.
func describe(err error) string {
	var ee *emr.EntryError
	if errors.As(err, &ee) {
		return fmt.Sprintf("entry %d: %s", ee.Index, ee.Err)
	}
	return err.Error()
}

func importFile(ctx context.Context, svc *emr.Service, path string) (*emr.ImportResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImportFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxImportFile {
		return nil, fmt.Errorf("file is larger than %d bytes", maxImportFile)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if strings.HasSuffix(path, ".ndjson") {
		return importNDJSON(ctx, svc, data)
	}
	return svc.ImportBundle(ctx, data)
}

// importNDJSON imports one resource a line, in transactions of at most
// emr.Config.MaxBundleEntries lines each, so a large export file needs no
// single huge transaction. An invalid line fails its transaction only.
func importNDJSON(ctx context.Context, svc *emr.Service, data []byte) (*emr.ImportResult, error) {
	chunk := svc.Config().MaxBundleEntries
	total := &emr.ImportResult{Created: map[string]int{}, Updated: map[string]int{}, Unchanged: map[string]int{}}
	var lines [][]byte
	var lineNumbers []int
	flush := func() error {
		if len(lines) == 0 {
			return nil
		}
		res, err := svc.ImportResources(ctx, lines)
		if err != nil {
			var ee *emr.EntryError
			if errors.As(err, &ee) {
				return fmt.Errorf("line %d (lines %d to %d were not imported): %w", lineNumbers[ee.Index], lineNumbers[0], lineNumbers[len(lineNumbers)-1], ee.Err)
			}
			return err
		}
		total.Add(res)
		lines, lineNumbers = lines[:0], lineNumbers[:0]
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), maxImportFile)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		lines = append(lines, append([]byte(nil), line...))
		lineNumbers = append(lineNumbers, n)
		if len(lines) == chunk {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return total, err
	}
	return total, flush()
}

func (r *importReport) print(w io.Writer) {
	types := map[string]bool{}
	for _, m := range []map[string]int{r.total.Created, r.total.Updated, r.total.Unchanged} {
		for t := range m {
			types[t] = true
		}
	}
	names := make([]string, 0, len(types))
	for t := range types {
		names = append(names, t)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "type\tcreated\tupdated\tunchanged\t")
	var c, u, n int
	for _, t := range names {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", t, r.total.Created[t], r.total.Updated[t], r.total.Unchanged[t])
		c += r.total.Created[t]
		u += r.total.Updated[t]
		n += r.total.Unchanged[t]
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t\n", c, u, n)
	tw.Flush()
	all := c + u + n
	rate := float64(all) / r.elapsed.Seconds()
	fmt.Fprintf(w, "%d resources in %s (%.0f resources/s)", all, r.elapsed.Round(time.Millisecond), rate)
	if r.total.Unresolved > 0 {
		fmt.Fprintf(w, "; %d bundle-local references named no entry and were kept as written", r.total.Unresolved)
	}
	if r.failed > 0 {
		fmt.Fprintf(w, "; %d files failed", r.failed)
	}
	fmt.Fprintln(w)
	slog.Debug("import finished", "resources", all, "failed_files", r.failed)
}

// progress shows a bar on a terminal and a plain line per file otherwise.
type progress struct {
	bar   *progressbar.ProgressBar
	out   io.Writer
	total int
	done  int
}

func newProgress(out io.Writer, total int) *progress {
	p := &progress{out: out, total: total}
	if f, ok := out.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(out), progressbar.OptionSetDescription("importing"),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *progress) step(file string) {
	p.done++
	if p.bar != nil {
		p.bar.Add(1)
		return
	}
	fmt.Fprintf(p.out, "[%d/%d] %s\n", p.done, p.total, file)
}

func (p *progress) clear() {
	if p.bar != nil {
		p.bar.Clear()
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
