package indexer

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"sahara/platform/db"
)

// Dump returns every indexed table as sorted lines of values, to compare two databases
// (a resumed index against a fresh one, SQLite against PostgreSQL).
func Dump(ctx context.Context, d *db.DB) (map[string][]string, error) {
	out := map[string][]string{}
	for _, t := range Tables {
		rows, err := d.QueryContext(ctx, `SELECT * FROM `+t)
		if err != nil {
			return nil, err
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			var parts []string
			for i, v := range vals {
				if cols[i] == "search" { // PostgreSQL's generated tsvector
					continue
				}
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				parts = append(parts, fmt.Sprint(v))
			}
			lines = append(lines, strings.Join(parts, "|"))
		}
		rows.Close()
		sort.Strings(lines)
		out[t] = lines
	}
	return out, nil
}
