package sqlstore

import (
	"fmt"
	"strconv"

	"github.com/nexus-health-360/nexus/emr"
)

// writeComposite matches a composite condition on the resources row
// aliased a. Extract stores component k of element g under the parameter
// "code$g$k", so the first component's row fixes the element and each
// further component must have a row under the same "code$g$" prefix.
func writeComposite(b *sqlBuilder, a, typ string, c emr.Cond) error {
	b.correlated = false
	prev := ""
	for k, part := range c.Composite {
		table, ok := condTables[part.Kind]
		if !ok {
			return fmt.Errorf("search %s: component %d of %s has condition kind %d: %w", typ, k+1, c.Param, part.Kind, emr.ErrUnsupported)
		}
		x := b.alias()
		if k == 0 {
			b.write("EXISTS (SELECT 1 FROM "+table+" "+x+" WHERE "+x+".rid = "+a+".rid AND "+x+".res_type = ? AND "+
				x+".param >= ? AND "+x+".param < ? AND substr("+x+".param, length("+x+".param) - 1) = '$1' AND ",
				typ, c.Param+"$", c.Param+"%")
		} else {
			b.write(" AND EXISTS (SELECT 1 FROM "+table+" "+x+" WHERE "+x+".rid = "+prev+".rid AND "+x+".res_type = ? AND "+
				x+".param = substr("+prev+".param, 1, length("+prev+".param) - 1) || ? AND ", typ, strconv.Itoa(k+1))
		}
		// The value test names its columns unqualified, so inside this
		// subquery they resolve to x.
		if part.Not {
			b.write("NOT (")
		}
		if err := writeValueCond(b, typ, part); err != nil {
			return err
		}
		if part.Not {
			b.write(")")
		}
		prev = x
	}
	for range c.Composite {
		b.write(")")
	}
	return nil
}
