package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// locate is used only after protojson has rejected the document (protojson stays the judge):
// it walks the JSON tree alongside the message descriptors to say *where* the problem is,
// in the YAML's own terms (protojson only gives a position in the generated JSON).
func locate(js []byte, md protoreflect.MessageDescriptor) []Problem {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []Problem{{"(root)", err.Error()}}
	}
	return locateMsg(md, v, "")
}

func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func isWKT(md protoreflect.MessageDescriptor) bool {
	return strings.HasPrefix(string(md.FullName()), "google.protobuf.") && md.FullName() != anyName
}

func newMessage(md protoreflect.MessageDescriptor) proto.Message {
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil {
		return mt.New().Interface()
	}
	return dynamicpb.NewMessage(md)
}

// checkWithProtojson lets protojson judge a JSON fragment against a message type.
func checkWithProtojson(md protoreflect.MessageDescriptor, v any, path string) []Problem {
	b, err := json.Marshal(v)
	if err != nil {
		return []Problem{{orRoot(path), err.Error()}}
	}
	if err := protojson.Unmarshal(b, newMessage(md)); err != nil {
		return []Problem{{orRoot(path), fmt.Sprintf("not a valid %s: %s", md.FullName(), cleanProtoErr(err))}}
	}
	return nil
}

func locateMsg(md protoreflect.MessageDescriptor, v any, path string) []Problem {
	if v == nil {
		return nil
	}
	if isWKT(md) {
		return checkWithProtojson(md, v, path)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return []Problem{{orRoot(path), fmt.Sprintf("expected an object (%s), got %s", md.FullName(), typeName(v))}}
	}
	if md.FullName() == anyName {
		return locateAny(obj, path)
	}

	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var probs []Problem
	oneofSeen := map[protoreflect.FullName]string{}
	fields := md.Fields()
	for _, k := range keys {
		p := joinPath(path, k)
		fd := fields.ByJSONName(k)
		if fd == nil {
			fd = fields.ByTextName(k)
		}
		if fd == nil {
			probs = append(probs, Problem{p, fmt.Sprintf("unknown field %q in %s", k, md.FullName())})
			continue
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() && obj[k] != nil {
			if other, dup := oneofSeen[od.FullName()]; dup {
				probs = append(probs, Problem{p, fmt.Sprintf("%q and %q are alternatives (oneof %s): set only one", other, k, od.Name())})
			}
			oneofSeen[od.FullName()] = k
		}
		probs = append(probs, locateField(fd, obj[k], p)...)
	}
	return probs
}

func locateField(fd protoreflect.FieldDescriptor, v any, path string) []Problem {
	if v == nil {
		return nil
	}
	switch {
	case fd.IsMap():
		obj, ok := v.(map[string]any)
		if !ok {
			return []Problem{{path, fmt.Sprintf("expected an object (map), got %s", typeName(v))}}
		}
		var probs []Problem
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			probs = append(probs, locateSingle(fd.MapValue(), obj[k], fmt.Sprintf("%s[%s]", path, k))...)
		}
		if len(probs) == 0 {
			// A bad map key (e.g. not a number for map<int32, ...>) is judged by protojson.
			probs = checkField(fd, v, path)
		}
		return probs
	case fd.IsList():
		l, ok := v.([]any)
		if !ok {
			return []Problem{{path, fmt.Sprintf("expected a list, got %s", typeName(v))}}
		}
		var probs []Problem
		for i, e := range l {
			probs = append(probs, locateSingle(fd, e, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return probs
	}
	return locateSingle(fd, v, path)
}

func locateSingle(fd protoreflect.FieldDescriptor, v any, path string) []Problem {
	if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
		return locateMsg(fd.Message(), v, path)
	}
	return checkScalar(fd, v, path)
}

// checkScalar asks protojson about one scalar/enum value by placing it in a one-field object
// of the containing message (a list element is wrapped in a one-element list).
func checkScalar(fd protoreflect.FieldDescriptor, v any, path string) []Problem {
	if fd.IsList() {
		v = []any{v}
	}
	return checkField(fd, v, path)
}

func checkField(fd protoreflect.FieldDescriptor, v any, path string) []Problem {
	b, err := json.Marshal(map[string]any{fd.JSONName(): v})
	if err != nil {
		return []Problem{{path, err.Error()}}
	}
	if err := protojson.Unmarshal(b, newMessage(fd.ContainingMessage())); err != nil {
		return []Problem{{path, fmt.Sprintf("wrong type or value for %s (%s): %s", fd.Name(), kindName(fd), cleanProtoErr(err))}}
	}
	return nil
}

func kindName(fd protoreflect.FieldDescriptor) string {
	if fd.Kind() == protoreflect.EnumKind {
		return "enum " + string(fd.Enum().FullName())
	}
	return fd.Kind().String()
}

func locateAny(obj map[string]any, path string) []Problem {
	p := joinPath(path, "@type")
	raw, ok := obj["@type"]
	if !ok {
		return []Problem{{orRoot(path), "typed_config (google.protobuf.Any) needs an \"@type\""}}
	}
	url, ok := raw.(string)
	if !ok {
		return []Problem{{p, fmt.Sprintf("expected a string, got %s", typeName(raw))}}
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
	if err != nil {
		return []Problem{{p, fmt.Sprintf("unknown type %q: not an Envoy v3 API type (misspelt or removed), or its Go package is not imported in registry.go", url)}}
	}
	md := mt.Descriptor()
	inner := path + "<" + string(md.FullName()) + ">"
	if isWKT(md) {
		return checkWithProtojson(md, obj["value"], inner)
	}
	rest := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "@type" {
			rest[k] = v
		}
	}
	return locateMsg(md, rest, inner)
}
