// Command specgen generates amqp/spec_gen.go from the AMQP 0-9-1 spec XML
// (RabbitMQ's extended edition) that ships inside the amqp091-go module.
// The XML is read from the module cache, never copied into this repository.
//
// Usage (from amqp/doc.go's go:generate line): go run ./internal/specgen -o spec_gen.go
package main

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
)

const specModule = "github.com/rabbitmq/amqp091-go"
const specPath = "spec/amqp0-9-1.stripped.extended.xml"

type spec struct {
	Constants []constant `xml:"constant"`
	Domains   []domain   `xml:"domain"`
	Classes   []class    `xml:"class"`
}

type constant struct {
	Name  string `xml:"name,attr"`
	Value int    `xml:"value,attr"`
	Class string `xml:"class,attr"`
}

type domain struct {
	Name string `xml:"name,attr"`
	Type string `xml:"type,attr"`
}

type class struct {
	Name    string   `xml:"name,attr"`
	Index   int      `xml:"index,attr"`
	Fields  []field  `xml:"field"`
	Methods []method `xml:"method"`
}

type method struct {
	Name        string  `xml:"name,attr"`
	Index       int     `xml:"index,attr"`
	Synchronous int     `xml:"synchronous,attr"`
	Content     int     `xml:"content,attr"`
	Fields      []field `xml:"field"`
}

type field struct {
	Name   string `xml:"name,attr"`
	Domain string `xml:"domain,attr"`
	Type   string `xml:"type,attr"`
}

func main() {
	out := flag.String("o", "spec_gen.go", "output file")
	in := flag.String("spec", "", "spec XML (default: from the amqp091-go module)")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "specgen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" {
		dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", specModule).Output()
		if err != nil {
			return fmt.Errorf("locate %s (is it in go.mod and downloaded?): %w", specModule, err)
		}
		in = filepath.Join(strings.TrimSpace(string(dir)), specPath)
	}
	raw, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	var s spec
	if err := xml.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("parse spec: %w", err)
	}
	model, err := build(&s)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, model); err != nil {
		return fmt.Errorf("execute template: %w", err)
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		_ = os.WriteFile(out+".broken", buf.Bytes(), 0o644)
		return fmt.Errorf("gofmt generated code (see %s.broken): %w", out, err)
	}
	return os.WriteFile(out, src, 0o644)
}

// Model passed to the template.
type gModel struct {
	Frames     []gConst
	Replies    []gConst
	Classes    []gClass
	Methods    []gMethod
	Properties []gField
}

type gConst struct {
	GoName string
	Wire   string // e.g. NOT_FOUND
	Value  int
	Hard   bool
}

type gClass struct {
	GoName string
	Name   string
	Index  int
}

type gMethod struct {
	GoName      string
	FullName    string // basic.publish
	ClassIndex  int
	Index       int
	Synchronous bool
	Content     bool
	Fields      []gField
	Ops         []gOp
}

type gField struct {
	GoName string
	Name   string
	Kind   string // octet, short, long, longlong, shortstr, longstr, bit, table, timestamp
	GoType string
	Bit    int // property flag bit, for properties
}

// gOp is one encode/decode step; consecutive bits share one octet.
type gOp struct {
	Kind   string
	Field  gField
	Bits   []gField // when Kind == "bits"
	Shifts []int
}

var goTypes = map[string]string{
	"octet": "uint8", "short": "uint16", "long": "uint32", "longlong": "uint64",
	"shortstr": "string", "longstr": "string", "bit": "bool", "table": "Table",
	"timestamp": "time.Time",
}

func build(s *spec) (*gModel, error) {
	domains := map[string]string{}
	for _, d := range s.Domains {
		domains[d.Name] = d.Type
	}
	kindOf := func(f field) (string, error) {
		k := f.Type
		if k == "" {
			k = domains[f.Domain]
		}
		if _, ok := goTypes[k]; !ok {
			return "", fmt.Errorf("field %q: unknown type %q", f.Name, k)
		}
		return k, nil
	}
	m := &gModel{}
	for _, c := range s.Constants {
		gc := gConst{GoName: goName(c.Name), Wire: strings.ToUpper(strings.ReplaceAll(c.Name, "-", "_")), Value: c.Value, Hard: c.Class == "hard-error"}
		// Reply codes carry a soft-error/hard-error class, except
		// reply-success. frame-error is a reply code despite its prefix:
		// sorting by prefix left ReplyName(501) empty.
		if c.Class != "" || c.Name == "reply-success" {
			m.Replies = append(m.Replies, gc)
		} else {
			m.Frames = append(m.Frames, gc)
		}
	}
	for _, c := range s.Classes {
		m.Classes = append(m.Classes, gClass{GoName: goName(c.Name), Name: c.Name, Index: c.Index})
		if c.Name == "basic" {
			for i, f := range c.Fields {
				k, err := kindOf(f)
				if err != nil {
					return nil, err
				}
				m.Properties = append(m.Properties, gField{GoName: goName(f.Name), Name: f.Name, Kind: k, GoType: goTypes[k], Bit: 15 - i})
			}
		}
		for _, me := range c.Methods {
			gm := gMethod{
				GoName:      goName(c.Name) + goName(me.Name),
				FullName:    c.Name + "." + me.Name,
				ClassIndex:  c.Index,
				Index:       me.Index,
				Synchronous: me.Synchronous == 1,
				Content:     me.Content == 1,
			}
			for _, f := range me.Fields {
				k, err := kindOf(f)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", gm.FullName, err)
				}
				gf := gField{GoName: goName(f.Name), Name: f.Name, Kind: k, GoType: goTypes[k]}
				gm.Fields = append(gm.Fields, gf)
				if k == "bit" {
					// spec 4.2.5.2: consecutive bits pack into octets, low bit first.
					if n := len(gm.Ops); n > 0 && gm.Ops[n-1].Kind == "bits" && len(gm.Ops[n-1].Bits) < 8 {
						op := &gm.Ops[n-1]
						op.Shifts = append(op.Shifts, len(op.Bits))
						op.Bits = append(op.Bits, gf)
						continue
					}
					gm.Ops = append(gm.Ops, gOp{Kind: "bits", Bits: []gField{gf}, Shifts: []int{0}})
					continue
				}
				gm.Ops = append(gm.Ops, gOp{Kind: k, Field: gf})
			}
			m.Methods = append(m.Methods, gm)
		}
	}
	return m, nil
}

// goName turns "start-ok" into "StartOk" and "class-id" into "ClassID".
func goName(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "-") {
		if part == "" {
			continue
		}
		switch part {
		case "id":
			b.WriteString("ID")
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

var tmpl = template.Must(template.New("spec").Funcs(template.FuncMap{
	"quote": strconv.Quote,
}).Parse(specTemplate))
