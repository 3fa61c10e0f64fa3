package keeper

import (
	"fmt"
	"strconv"

	"sahara/chain/x/registry/types"
)

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// pct renders a 1e8-unit share as a percentage.
func pct(v uint64) string { return fmt.Sprintf("%.4g%%", float64(v)*100/float64(types.TotalShares)) }
