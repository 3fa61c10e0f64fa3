// Package fingerprint gives each licensee's copy of a tabular dataset an
// invisible, keyed mark and names the licensee a leaked copy came from.
//
// The mark lives in choices that do not change the data: in CSV, whether
// a field that needs no quotes is quoted anyway (every CSV reader returns
// the same value); in JSONL, the order of each pair of keys and whether a
// space follows each colon (every JSON reader returns the same object).
// Each choice is one bit, HMAC(licensee key, row content, position), so:
//   - rows are independent: any subset, in any order, still carries the
//     mark, and detection needs no copy of the original;
//   - a licensee's bits look random to everybody else, and an innocent
//     licensee agrees with a leaked copy on about half of the bits, so the
//     guilty one stands out by a z-score that grows with √bits.
//
// What re-serialisation removes: a CSV rewritten by a CSV library loses
// the quoting bits; JSON re-dumped compact loses the spacing bits but
// keeps key order (Python, JavaScript and Go maps-as-structs keep it).
package fingerprint

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Format is the dataset's text format.
type Format string

const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
)

// Detect guesses the format from a file name or the first bytes.
func Detect(name string, head []byte) (Format, error) {
	switch {
	case strings.HasSuffix(name, ".csv"):
		return CSV, nil
	case strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".ndjson"):
		return JSONL, nil
	case bytes.HasPrefix(bytes.TrimSpace(head), []byte("{")):
		return JSONL, nil
	case bytes.ContainsRune(head, ','):
		return CSV, nil
	}
	return "", fmt.Errorf("%s is neither CSV nor JSON lines: fingerprinted exports need one of them", name)
}

// Key is a licensee's marking key.
type Key [32]byte

// LicenseeKey derives the key of one licensee of one asset from the
// node's secret.
func LicenseeKey(secret []byte, asset uint64, licensee string) Key {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("sahara-fingerprint-v1"))
	binary.Write(m, binary.BigEndian, asset)
	m.Write([]byte(strings.ToLower(licensee)))
	var k Key
	copy(k[:], m.Sum(nil))
	return k
}

// bits returns n keyed bits for a row identified by its canonical form.
func (k Key) bits(canon []byte, n int) []bool {
	out := make([]bool, 0, n)
	var ctr uint32
	for len(out) < n {
		m := hmac.New(sha256.New, k[:])
		m.Write(canon)
		binary.Write(m, binary.BigEndian, ctr)
		ctr++
		for _, b := range m.Sum(nil) {
			for j := 0; j < 8 && len(out) < n; j++ {
				out = append(out, b>>j&1 == 1)
			}
		}
	}
	return out
}

// Stats says how much a copy carries.
type Stats struct {
	Rows, MarkedRows, Bits int
}

// Mark writes the licensee's copy of src to dst.
func Mark(f Format, src io.Reader, dst io.Writer, k Key) (Stats, error) {
	switch f {
	case CSV:
		return markCSV(src, dst, k)
	case JSONL:
		return markJSONL(src, dst, k)
	}
	return Stats{}, fmt.Errorf("unknown format %q", f)
}

// Observation is the bits read back from one row of a suspect copy.
type observation struct {
	canon []byte
	bits  []bool
	chans []uint8 // which choice each bit comes from, see dropErased
}

// read extracts the mark-carrying choices of every row of a suspect copy.
func read(f Format, r io.Reader) ([]observation, error) {
	switch f {
	case CSV:
		return readCSV(r)
	case JSONL:
		return readJSONL(r)
	}
	return nil, fmt.Errorf("unknown format %q", f)
}

// Candidate is one licensee a copy may come from.
type Candidate struct {
	Licensee string
	Key      Key
}

// Score is how well a suspect copy matches one licensee's mark.
type Score struct {
	Licensee string  `json:"licensee"`
	Agree    int     `json:"agree"`
	Bits     int     `json:"bits"`
	Z        float64 `json:"z"`       // (agree − bits/2) / √(bits/4)
	PValue   float64 `json:"p_value"` // chance an unmarked copy agrees this well
}

// Verdict names the licensee, if any, the copy is attributed to.
type Verdict struct {
	Licensee string  `json:"licensee,omitempty"` // empty: nobody is accused
	Rows     int     `json:"rows"`
	Bits     int     `json:"bits"`
	Scores   []Score `json:"scores"` // best first
	Reason   string  `json:"reason"`
}

// Threshold is the z-score needed to accuse a licensee: about a one in
// 10^12 chance for an innocent one, even across many licensees.
const Threshold = 7.0

// Trace scores a suspect copy against every candidate.
func Trace(f Format, suspect io.Reader, cands []Candidate) (*Verdict, error) {
	obs, err := read(f, suspect)
	if err != nil {
		return nil, err
	}
	v := &Verdict{Rows: len(obs)}
	for _, o := range obs {
		v.Bits += len(o.bits)
	}
	for _, c := range cands {
		s := Score{Licensee: c.Licensee, Bits: v.Bits}
		for _, o := range obs {
			want := c.Key.bits(o.canon, len(o.bits))
			for i, b := range o.bits {
				if b == want[i] {
					s.Agree++
				}
			}
		}
		if s.Bits > 0 {
			s.Z = (float64(s.Agree) - float64(s.Bits)/2) / math.Sqrt(float64(s.Bits)/4)
			s.PValue = 0.5 * math.Erfc(s.Z/math.Sqrt2)
		}
		v.Scores = append(v.Scores, s)
	}
	sort.Slice(v.Scores, func(i, j int) bool { return v.Scores[i].Z > v.Scores[j].Z })
	switch {
	case len(cands) == 0:
		v.Reason = "no licensee has an export of this asset"
	case v.Bits == 0:
		v.Reason = "the file carries no mark-bearing choices (no rows, or every field needs quoting)"
	case v.Scores[0].Z >= Threshold:
		v.Licensee = v.Scores[0].Licensee
		v.Reason = fmt.Sprintf("%d of %d marks match %s (z = %.1f, p = %.2g)", v.Scores[0].Agree, v.Bits, v.Licensee, v.Scores[0].Z, v.Scores[0].PValue)
	default:
		v.Reason = fmt.Sprintf("no licensee's mark is significant (best z = %.1f, need %.0f): the copy is too small, re-serialised, or not from an export", v.Scores[0].Z, Threshold)
	}
	return v, nil
}

// ---- CSV ----

// csvRecord is one record with, per field, whether it was quoted.
type csvRecord struct {
	fields []string
	quoted []bool
}

// readRecord reads one RFC 4180 record, remembering quoting.
func readRecord(r *bufio.Reader, line *int) (*csvRecord, error) {
	rec := &csvRecord{}
	var field strings.Builder
	quoted, inQuotes, started := false, false, false
	for {
		c, err := r.ReadByte()
		if errors.Is(err, io.EOF) {
			if inQuotes {
				return nil, fmt.Errorf("line %d: quoted field not closed at end of file", *line)
			}
			if !started {
				return nil, io.EOF
			}
			rec.fields, rec.quoted = append(rec.fields, field.String()), append(rec.quoted, quoted)
			return rec, nil
		}
		if err != nil {
			return nil, err
		}
		started = true
		switch {
		case inQuotes && c == '"':
			if n, _ := r.Peek(1); len(n) == 1 && n[0] == '"' {
				r.ReadByte()
				field.WriteByte('"')
			} else {
				inQuotes = false
			}
		case inQuotes:
			if c == '\n' {
				*line++
			}
			field.WriteByte(c)
		case c == '"' && field.Len() == 0 && !quoted:
			inQuotes, quoted = true, true
		case c == ',':
			rec.fields, rec.quoted = append(rec.fields, field.String()), append(rec.quoted, quoted)
			field.Reset()
			quoted = false
		case c == '\r':
		case c == '\n':
			*line++
			rec.fields, rec.quoted = append(rec.fields, field.String()), append(rec.quoted, quoted)
			return rec, nil
		default:
			field.WriteByte(c)
		}
	}
}

// needsQuotes: fields a CSV writer must quote carry no bit.
func needsQuotes(s string) bool {
	return s == "" || strings.ContainsAny(s, ",\"\r\n") || s[0] == ' ' || s[len(s)-1] == ' '
}

func csvCanon(fields []string) []byte { return []byte(strings.Join(fields, "\x1f")) }

func writeCSVField(w *bufio.Writer, s string, quote bool) {
	if !quote {
		w.WriteString(s)
		return
	}
	w.WriteByte('"')
	w.WriteString(strings.ReplaceAll(s, `"`, `""`))
	w.WriteByte('"')
}

func markCSV(src io.Reader, dst io.Writer, k Key) (Stats, error) {
	var st Stats
	r, w := bufio.NewReader(src), bufio.NewWriter(dst)
	line := 1
	for first := true; ; first = false {
		rec, err := readRecord(r, &line)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, err
		}
		eligible := 0
		for _, f := range rec.fields {
			if !needsQuotes(f) {
				eligible++
			}
		}
		var bits []bool
		if !first { // the header stays as it is
			st.Rows++
			bits = k.bits(csvCanon(rec.fields), eligible)
			if eligible > 0 {
				st.MarkedRows++
				st.Bits += eligible
			}
		}
		j := 0
		for i, f := range rec.fields {
			if i > 0 {
				w.WriteByte(',')
			}
			q := needsQuotes(f)
			if !q && bits != nil {
				q = bits[j]
				j++
			}
			writeCSVField(w, f, q)
		}
		w.WriteByte('\n')
	}
	return st, w.Flush()
}

func readCSV(src io.Reader) ([]observation, error) {
	r := bufio.NewReader(src)
	line := 1
	var out []observation
	for {
		rec, err := readRecord(r, &line)
		if errors.Is(err, io.EOF) {
			return dropErased(out, 1), nil
		}
		if err != nil {
			return nil, err
		}
		o := observation{canon: csvCanon(rec.fields)}
		for i, f := range rec.fields {
			if !needsQuotes(f) {
				o.bits = append(o.bits, rec.quoted[i])
				o.chans = append(o.chans, 0)
			}
		}
		if len(o.bits) > 0 { // a header or a foreign row just adds noise bits to everyone alike
			out = append(out, o)
		}
	}
}

// dropErased removes the bits of a channel that reads the same everywhere
// (e.g. a CSV rewritten without optional quotes, or JSON re-dumped with
// sorted keys): such a channel carries nothing and would only dilute the
// others.
func dropErased(obs []observation, nchans int) []observation {
	seen := make([][2]bool, nchans)
	for _, o := range obs {
		for i, b := range o.bits {
			if b {
				seen[o.chans[i]][1] = true
			} else {
				seen[o.chans[i]][0] = true
			}
		}
	}
	out := obs[:0]
	for _, o := range obs {
		var bits []bool
		var chans []uint8
		for i, b := range o.bits {
			if c := o.chans[i]; seen[c][0] && seen[c][1] {
				bits, chans = append(bits, b), append(chans, c)
			}
		}
		if len(bits) > 0 {
			out = append(out, observation{canon: o.canon, bits: bits, chans: chans})
		}
	}
	return out
}

// ---- JSON lines ----

// jsonRow is a top-level object with its keys in file order, each value
// kept as raw (compacted) JSON, and whether a space followed each colon.
type jsonRow struct {
	keys   []string
	vals   []json.RawMessage
	spaced []bool
}

func parseJSONRow(line []byte, n int) (*jsonRow, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("line %d is not a JSON object", n)
	}
	row := &jsonRow{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		key, _ := kt.(string)
		off := dec.InputOffset()
		rest := line[off:]
		i := 0
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
			i++
		}
		spaced := i+1 < len(rest) && rest[i] == ':' && rest[i+1] == ' '
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("line %d, key %q: %v", n, key, err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, raw); err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		row.keys, row.vals, row.spaced = append(row.keys, key), append(row.vals, c.Bytes()), append(row.spaced, spaced)
	}
	return row, nil
}

// canon is the object with sorted keys: the same however it is written.
func (r *jsonRow) canon() []byte {
	idx := make([]int, len(r.keys))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return r.keys[idx[a]] < r.keys[idx[b]] })
	var b bytes.Buffer
	for _, i := range idx {
		kb, _ := json.Marshal(r.keys[i])
		b.Write(kb)
		b.WriteByte(':')
		b.Write(r.vals[i])
		b.WriteByte(0x1f)
	}
	return b.Bytes()
}

func eachLine(src io.Reader, f func(n int, line []byte) error) error {
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := f(n, sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// jsonBits: one order bit per pair of keys, one spacing bit per key.
func jsonBits(nkeys int) int { return nkeys/2 + nkeys }

func markJSONL(src io.Reader, dst io.Writer, k Key) (Stats, error) {
	var st Stats
	w := bufio.NewWriter(dst)
	err := eachLine(src, func(n int, line []byte) error {
		row, err := parseJSONRow(line, n)
		if err != nil {
			return err
		}
		st.Rows++
		nb := jsonBits(len(row.keys))
		bits := k.bits(row.canon(), nb)
		if nb > 0 {
			st.MarkedRows++
			st.Bits += nb
		}
		// Order: within each pair, ascending key order for 0, descending for 1.
		order := make([]int, len(row.keys))
		for i := range order {
			order[i] = i
		}
		for p := 0; p+1 < len(order); p += 2 {
			a, b := order[p], order[p+1]
			if (row.keys[a] > row.keys[b]) != bits[p/2] {
				order[p], order[p+1] = b, a
			}
		}
		w.WriteByte('{')
		for j, i := range order {
			if j > 0 {
				w.WriteByte(',')
			}
			kb, _ := json.Marshal(row.keys[i])
			w.Write(kb)
			w.WriteByte(':')
			if bits[len(row.keys)/2+j] {
				w.WriteByte(' ')
			}
			w.Write(row.vals[i])
		}
		w.WriteString("}\n")
		return nil
	})
	if err != nil {
		return st, err
	}
	return st, w.Flush()
}

func readJSONL(src io.Reader) ([]observation, error) {
	var out []observation
	err := eachLine(src, func(n int, line []byte) error {
		row, err := parseJSONRow(line, n)
		if err != nil {
			return err
		}
		o := observation{canon: row.canon()}
		for p := 0; p+1 < len(row.keys); p += 2 {
			o.bits, o.chans = append(o.bits, row.keys[p] > row.keys[p+1]), append(o.chans, 0)
		}
		for _, sp := range row.spaced {
			o.bits, o.chans = append(o.bits, sp), append(o.chans, 1)
		}
		if len(o.bits) > 0 {
			out = append(out, o)
		}
		return nil
	})
	return dropErased(out, 2), err
}
