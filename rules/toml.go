package rules

import (
	"errors"
	"fmt"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// A value is one TOML value with the position of the key that defined it,
// so every validation error can name a line.
type value struct {
	kind   unstable.Kind // String, Bool, Integer, Array, Table, ...
	str    string
	arr    []*value
	keys   []string // a table's keys in file order
	tab    map[string]*value
	pos    pos  // where the key (or table header) is
	vpos   pos  // where the value is, for scalars
	table  bool // a [table] header defined it (it may not be defined twice)
	frozen bool // an inline table or a value: no keys may be added
}

type pos struct{ line, col int }

func newTable(p pos) *value {
	return &value{kind: unstable.Table, tab: map[string]*value{}, pos: p}
}

func (v *value) set(k string, x *value) {
	v.keys = append(v.keys, k)
	v.tab[k] = x
}

// parseTOML turns data into a tree of values that remember their lines.
func parseTOML(data []byte) (*value, error) {
	var p unstable.Parser
	p.Reset(data)
	root := newTable(pos{1, 1})
	cur := root
	at := func(n *unstable.Node) pos {
		if n == nil || n.Raw.Length == 0 {
			return pos{}
		}
		s := p.Shape(n.Raw)
		return pos{s.Start.Line, s.Start.Column}
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Comment:
		case unstable.Table, unstable.ArrayTable:
			keys, kpos := keyOf(e.Key(), at)
			t, err := openTable(root, keys, kpos, e.Kind == unstable.ArrayTable)
			if err != nil {
				return nil, err
			}
			cur = t
		case unstable.KeyValue:
			if err := setKeyValue(cur, e, at); err != nil {
				return nil, err
			}
		}
	}
	if err := p.Error(); err != nil {
		// The unstable parser's error has no line; the stable decoder
		// reports the same problem with one.
		var de *toml.DecodeError
		var x any
		if uerr := toml.Unmarshal(data, &x); errors.As(uerr, &de) {
			line, col := de.Position()
			return nil, &Error{Line: line, Column: col, Err: fmt.Errorf("%w: %s", ErrSyntax, de.Error())}
		}
		return nil, &Error{Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
	}
	return root, nil
}

func keyOf(it unstable.Iterator, at func(*unstable.Node) pos) ([]string, []pos) {
	var keys []string
	var ps []pos
	for it.Next() {
		keys = append(keys, string(it.Node().Data))
		ps = append(ps, at(it.Node()))
	}
	return keys, ps
}

func dupKey(keys []string, p pos) error {
	return &Error{Line: p.line, Column: p.col, Err: fmt.Errorf("%w: %s", ErrDuplicateKey, joinKey(keys))}
}

// openTable finds or makes the table a [a.b] or [[a.b]] header names.
func openTable(root *value, keys []string, kpos []pos, array bool) (*value, error) {
	t := root
	for i, k := range keys {
		last := i == len(keys)-1
		x, ok := t.tab[k]
		switch {
		case !ok && last && array:
			x = &value{kind: unstable.Array, pos: kpos[i]}
			t.set(k, x)
		case !ok:
			x = newTable(kpos[i])
			t.set(k, x)
		case x.frozen:
			return nil, dupKey(keys[:i+1], kpos[i])
		}
		if x.kind == unstable.Array {
			if last && array {
				n := newTable(kpos[i])
				n.table = true
				x.arr = append(x.arr, n)
				return n, nil
			}
			if len(x.arr) == 0 || x.arr[len(x.arr)-1].kind != unstable.Table || x.arr[len(x.arr)-1].frozen {
				return nil, dupKey(keys[:i+1], kpos[i])
			}
			t = x.arr[len(x.arr)-1]
			continue
		}
		if x.kind != unstable.Table || last && array {
			return nil, dupKey(keys[:i+1], kpos[i])
		}
		if last {
			if x.table {
				return nil, dupKey(keys, kpos[i])
			}
			x.table = true
		}
		t = x
	}
	return t, nil
}

func setKeyValue(t *value, e *unstable.Node, at func(*unstable.Node) pos) error {
	keys, kpos := keyOf(e.Key(), at)
	for i, k := range keys[:len(keys)-1] {
		x, ok := t.tab[k]
		if !ok {
			x = newTable(kpos[i])
			t.set(k, x)
		} else if x.kind != unstable.Table || x.frozen {
			return dupKey(keys[:i+1], kpos[i])
		}
		t = x
	}
	k := keys[len(keys)-1]
	if _, ok := t.tab[k]; ok {
		return dupKey(keys, kpos[len(kpos)-1])
	}
	v, err := convert(e.Value(), kpos[len(kpos)-1], at)
	if err != nil {
		return err
	}
	t.set(k, v)
	return nil
}

func convert(n *unstable.Node, kp pos, at func(*unstable.Node) pos) (*value, error) {
	v := &value{kind: n.Kind, pos: kp, vpos: at(n), frozen: true}
	if v.vpos == (pos{}) {
		v.vpos = kp
	}
	switch n.Kind {
	case unstable.Array:
		it := n.Children()
		for it.Next() {
			x, err := convert(it.Node(), at(it.Node()), at)
			if err != nil {
				return nil, err
			}
			v.arr = append(v.arr, x)
		}
	case unstable.InlineTable:
		v.kind = unstable.Table
		v.tab = map[string]*value{}
		it := n.Children()
		for it.Next() {
			if err := setKeyValue(v, it.Node(), at); err != nil {
				return nil, err
			}
		}
	default:
		v.str = string(n.Data)
	}
	return v, nil
}

func joinKey(keys []string) string {
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += "."
		}
		s += k
	}
	return s
}

func kindName(k unstable.Kind) string {
	switch k {
	case unstable.String:
		return "a string"
	case unstable.Bool:
		return "a boolean"
	case unstable.Integer:
		return "an integer"
	case unstable.Float:
		return "a float"
	case unstable.Array:
		return "an array"
	case unstable.Table:
		return "a table"
	}
	return "a date or time"
}
