package console

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/airlock-dev/airlock/audit"
)

const (
	chartW, chartH = 720, 220
	chartPad       = 30
	maxDays        = 90
)

// palette colours a chart's series; more series than colours reuse them.
var palette = []string{"#2f6fdf", "#e07b39", "#3fa34d", "#b5459b", "#8c6d31", "#17becf", "#d62728", "#7f7f7f"}

// chart is a stacked bar chart drawn server-side as SVG: one bar per day,
// one colour per series.
type chart struct {
	Title  string
	W, H   int
	Bars   []bar
	Labels []label
	Legend []legend
	Max    int64
}

type bar struct {
	X, Y, W, H int
	Color      string
	Tip        string
}

type label struct {
	X, Y int
	Text string
}

type legend struct{ Color, Name string }

type usageData struct {
	Days   int
	Charts []chart
	Error  string
}

func (s *Server) usage(w http.ResponseWriter, r *http.Request, sess *session) {
	days, err := strconv.Atoi(r.URL.Query().Get("days"))
	if err != nil || days <= 0 || days > maxDays {
		days = 14
	}
	d := usageData{Days: days}
	since := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1-days)
	rows, err := s.src.Usage(r.Context(), since)
	if err != nil {
		d.Error = err.Error()
	}
	byCaller := func(u audit.Usage) string { return u.Caller }
	byModel := func(u audit.Usage) string { return u.Model }
	reqs := func(u audit.Usage) int64 { return u.Requests }
	toks := func(u audit.Usage) int64 { return u.InputTokens + u.OutputTokens }
	d.Charts = []chart{
		buildChart("Requests per caller", rows, since, days, byCaller, reqs),
		buildChart("Requests per model", rows, since, days, byModel, reqs),
		buildChart("Tokens (input + output) per caller", rows, since, days, byCaller, toks),
		buildChart("Tokens (input + output) per model", rows, since, days, byModel, toks),
	}
	s.pages.render(w, http.StatusOK, "usage", s.page(sess, "usage", "Usage", d))
}

func buildChart(title string, rows []audit.Usage, since time.Time, days int, key func(audit.Usage) string, val func(audit.Usage) int64) chart {
	c := chart{Title: title, W: chartW, H: chartH}
	sums := make([]map[string]int64, days)
	var names []string
	for _, u := range rows {
		i := int(u.Day.Sub(since) / (24 * time.Hour))
		if i < 0 || i >= days {
			continue
		}
		if sums[i] == nil {
			sums[i] = map[string]int64{}
		}
		if !slices.Contains(names, key(u)) {
			names = append(names, key(u))
		}
		sums[i][key(u)] += val(u)
	}
	slices.Sort(names)
	for i, n := range names {
		c.Legend = append(c.Legend, legend{Color: palette[i%len(palette)], Name: n})
	}
	c.Max = maxTotal(sums)
	c.draw(sums, names, since)
	return c
}

func maxTotal(sums []map[string]int64) int64 {
	var m int64 = 1
	for _, day := range sums {
		var t int64
		for _, v := range day {
			t += v
		}
		m = max(m, t)
	}
	return m
}

func (c *chart) draw(sums []map[string]int64, names []string, since time.Time) {
	plotH := c.H - 2*chartPad
	slot := (c.W - chartPad) / len(sums)
	for i, day := range sums {
		x, y := chartPad+i*slot, c.H-chartPad
		for j, n := range names {
			if day[n] == 0 {
				continue
			}
			h := max(int(day[n]*int64(plotH)/c.Max), 1)
			y -= h
			c.Bars = append(c.Bars, bar{X: x + 2, Y: y, W: max(slot-4, 1), H: h, Color: palette[j%len(palette)],
				Tip: fmt.Sprintf("%s %s: %d", since.AddDate(0, 0, i).Format("01-02"), n, day[n])})
		}
		if i%max(len(sums)/7, 1) == 0 {
			c.Labels = append(c.Labels, label{X: x + slot/2, Y: c.H - chartPad + 16, Text: since.AddDate(0, 0, i).Format("01-02")})
		}
	}
	c.Labels = append(c.Labels, label{X: chartPad, Y: chartPad - 8, Text: strconv.FormatInt(c.Max, 10)})
}
