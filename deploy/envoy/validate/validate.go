package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"sigs.k8s.io/yaml"
)

// Problem is one finding: where in the config (a dotted path in the YAML's own field names;
// <Type> marks the inside of a typed_config/Any) and what is wrong.
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) String() string { return p.Path + ": " + p.Msg }

// Options tune the checks.
type Options struct {
	// AllowDeprecated accepts fields and enum values marked deprecated in Envoy's API.
	AllowDeprecated bool
}

// ValidateYAML checks an Envoy v3 bootstrap in YAML against Envoy's API definitions:
//  1. strict YAML (duplicate keys fail) converted to JSON;
//  2. protojson into envoy.config.bootstrap.v3.Bootstrap with unknown fields rejected, every
//     typed_config resolved to its registered type (on failure the exact path is located);
//  3. the protoc-gen-validate rules of Bootstrap (ValidateAll);
//  4. every google.protobuf.Any, recursively, unpacked and validated by its own rules
//     (ValidateAll does not look inside Any);
//  5. deprecated fields/enum values (unless allowed) and a few cross-references Envoy
//     checks at load time (route/JWKS clusters exist, the router filter is last).
func ValidateYAML(data []byte, opts Options) []Problem {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return []Problem{{"(yaml)", err.Error()}}
	}
	bs := &bootstrapv3.Bootstrap{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(js, bs); err != nil {
		probs := locate(js, bs.ProtoReflect().Descriptor())
		if len(probs) == 0 {
			probs = []Problem{{"(root)", "does not match envoy.config.bootstrap.v3.Bootstrap: " + cleanProtoErr(err)}}
		}
		return probs
	}

	var probs []Problem
	probs = append(probs, pgvProblems("", bs.ValidateAll())...)
	probs = append(probs, walkMessage(bs.ProtoReflect(), "", opts)...)
	probs = append(probs, crossCheck(bs)...)
	return probs
}

// ---- protoc-gen-validate errors -> paths ---------------------------------------------------

type pgvError interface {
	Field() string
	Reason() string
	Cause() error
}

type multiError interface{ AllErrors() []error }

func pgvProblems(path string, err error) []Problem {
	if err == nil {
		return nil
	}
	if ve, ok := err.(pgvError); ok {
		p := joinPath(path, pgvFieldToPath(ve.Field()))
		if ve.Cause() != nil && strings.Contains(ve.Reason(), "embedded message failed validation") {
			return pgvProblems(p, ve.Cause())
		}
		msg := ve.Reason()
		if ve.Cause() != nil {
			msg += ": " + ve.Cause().Error()
		}
		return []Problem{{orRoot(p), "violates Envoy's validation rule: " + msg}}
	}
	if me, ok := err.(multiError); ok {
		var out []Problem
		for _, e := range me.AllErrors() {
			out = append(out, pgvProblems(path, e)...)
		}
		return out
	}
	return []Problem{{orRoot(path), err.Error()}}
}

// pgvFieldToPath turns protoc-gen-validate's Go field names ("StaticResources",
// "Listeners[0]", "TypedPerFilterConfig[envoy.filters.http.cors]") into YAML names.
func pgvFieldToPath(f string) string {
	name, idx := f, ""
	if i := strings.IndexByte(f, '['); i >= 0 {
		name, idx = f[:i], f[i:]
	}
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String() + idx
}

// ---- walking the parsed message: Any, deprecated ------------------------------------------

const anyName = "google.protobuf.Any"

func walkMessage(m protoreflect.Message, path string, opts Options) []Problem {
	var probs []Problem
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := joinPath(path, string(fd.Name()))
		if !opts.AllowDeprecated {
			if fo, ok := fd.Options().(*descriptorpb.FieldOptions); ok && fo.GetDeprecated() {
				probs = append(probs, Problem{p, fmt.Sprintf("field %s is deprecated in Envoy's API (use its replacement; -allow-deprecated to accept)", fd.FullName())})
			}
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				probs = append(probs, walkValue(fd, l.Get(i), fmt.Sprintf("%s[%d]", p, i), opts)...)
			}
		case fd.IsMap():
			mv := v.Map()
			var keys []protoreflect.MapKey
			mv.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool { keys = append(keys, k); return true })
			sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
			for _, k := range keys {
				probs = append(probs, walkValue(fd.MapValue(), mv.Get(k), fmt.Sprintf("%s[%s]", p, k.String()), opts)...)
			}
		default:
			probs = append(probs, walkValue(fd, v, p, opts)...)
		}
		return true
	})
	return probs
}

func walkValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, path string, opts Options) []Problem {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return walkChild(v.Message(), path, opts)
	case protoreflect.EnumKind:
		if opts.AllowDeprecated {
			return nil
		}
		ev := fd.Enum().Values().ByNumber(v.Enum())
		if ev != nil {
			if eo, ok := ev.Options().(*descriptorpb.EnumValueOptions); ok && eo.GetDeprecated() {
				return []Problem{{path, fmt.Sprintf("enum value %s is deprecated in Envoy's API", ev.Name())}}
			}
		}
	}
	return nil
}

func walkChild(m protoreflect.Message, path string, opts Options) []Problem {
	if m.Descriptor().FullName() == "google.protobuf.Duration" {
		// Envoy's loader rejects any negative Duration anywhere in a config, whether or not the
		// field has a validation rule of its own ("Expected positive duration").
		if d, ok := m.Interface().(*durationpb.Duration); ok && (d.GetSeconds() < 0 || d.GetNanos() < 0) {
			return []Problem{{path, fmt.Sprintf("negative duration %s: Envoy rejects negative durations", d.AsDuration())}}
		}
		return nil
	}
	if m.Descriptor().FullName() != anyName {
		return walkMessage(m, path, opts)
	}
	a, ok := m.Interface().(*anypb.Any)
	if !ok {
		a = &anypb.Any{}
		if b, err := proto.Marshal(m.Interface()); err != nil || proto.Unmarshal(b, a) != nil {
			return []Problem{{path, "cannot read google.protobuf.Any"}}
		}
	}
	inner, err := a.UnmarshalNew()
	if err != nil {
		return []Problem{{path, fmt.Sprintf("cannot unpack %q: %v (is its Go package imported in registry.go?)", a.GetTypeUrl(), err)}}
	}
	name := inner.ProtoReflect().Descriptor().FullName()
	switch name {
	case "xds.type.v3.TypedStruct", "udpa.type.v1.TypedStruct":
		return []Problem{{path, "TypedStruct configs cannot be schema-checked; use the extension's own @type"}}
	}
	p := path + "<" + string(name) + ">"
	var probs []Problem
	if v, ok := inner.(interface{ ValidateAll() error }); ok {
		probs = append(probs, pgvProblems(p, v.ValidateAll())...)
	}
	return append(probs, walkMessage(inner.ProtoReflect(), p, opts)...)
}

// ---- cross-references Envoy resolves at load time ------------------------------------------

func crossCheck(bs *bootstrapv3.Bootstrap) []Problem {
	var probs []Problem
	clusters := map[string]bool{}
	for _, c := range bs.GetStaticResources().GetClusters() {
		clusters[c.GetName()] = true
	}
	hasDynamicClusters := bs.GetDynamicResources().GetCdsConfig() != nil
	// Walk every message for fields that name a cluster.
	var visit func(m protoreflect.Message, path string)
	visit = func(m protoreflect.Message, path string) {
		if m.Descriptor().FullName() == anyName {
			a, ok := m.Interface().(*anypb.Any)
			if !ok {
				return
			}
			inner, err := a.UnmarshalNew()
			if err != nil {
				return
			}
			m = inner.ProtoReflect()
			path += "<" + string(m.Descriptor().FullName()) + ">"
		}
		full := m.Descriptor().FullName()
		if full == "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager" {
			filters := m.Descriptor().Fields().ByName("http_filters")
			l := m.Get(filters).List()
			if l.Len() > 0 {
				last := l.Get(l.Len() - 1).Message()
				tc := last.Get(last.Descriptor().Fields().ByName("typed_config")).Message()
				url := ""
				if a, ok := tc.Interface().(*anypb.Any); ok {
					url = a.GetTypeUrl()
				}
				if !strings.HasSuffix(url, "envoy.extensions.filters.http.router.v3.Router") {
					probs = append(probs, Problem{path + ".http_filters", "the last HTTP filter must be the router (envoy.extensions.filters.http.router.v3.Router)"})
				}
			}
		}
		if (full == "envoy.config.route.v3.RouteAction" || full == "envoy.config.core.v3.HttpUri") && !hasDynamicClusters {
			if fd := m.Descriptor().Fields().ByName("cluster"); fd != nil && m.Has(fd) {
				name := m.Get(fd).String()
				if name != "" && !clusters[name] { // empty: already a validation-rule error
					probs = append(probs, Problem{path + ".cluster", fmt.Sprintf("cluster %q is not defined in static_resources.clusters", name)})
				}
			}
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if fd.Kind() != protoreflect.MessageKind {
				return true
			}
			p := joinPath(path, string(fd.Name()))
			switch {
			case fd.IsList():
				for i := 0; i < v.List().Len(); i++ {
					visit(v.List().Get(i).Message(), fmt.Sprintf("%s[%d]", p, i))
				}
			case fd.IsMap():
				if fd.MapValue().Kind() == protoreflect.MessageKind {
					v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
						visit(mv.Message(), fmt.Sprintf("%s[%s]", p, k.String()))
						return true
					})
				}
			default:
				visit(v.Message(), p)
			}
			return true
		})
	}
	visit(bs.ProtoReflect(), "")
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Path < probs[j].Path })
	return probs
}

// ---- helpers -------------------------------------------------------------------------------

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}

func orRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}

var protoErrPrefix = regexp.MustCompile(`^proto:\s*(\(line \d+:\d+\):\s*)?`)

// cleanProtoErr drops protojson's "proto: (line 1:234):" prefix: positions in the generated
// JSON mean nothing to someone editing the YAML; the path says where instead.
func cleanProtoErr(err error) string {
	return protoErrPrefix.ReplaceAllString(err.Error(), "")
}
