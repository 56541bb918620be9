// Command envoy-validate checks Envoy v3 bootstrap YAML files against Envoy's own API
// definitions (go-control-plane's generated protos and protoc-gen-validate rules), including
// everything inside typed_config/Any. It exits 0 when every file passes, 1 when any has a
// problem (each printed as "file: path: problem"), 2 on usage errors.
//
//	go run . [-allow-deprecated] ../envoy.yaml [more.yaml ...]
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	allowDeprecated := flag.Bool("allow-deprecated", false, "accept fields and enum values that Envoy's API marks deprecated")
	quiet := flag.Bool("q", false, "print nothing for files that pass")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [-allow-deprecated] [-q] envoy.yaml...\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	failed := false
	for _, file := range flag.Args() {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", file, err)
			failed = true
			continue
		}
		probs := ValidateYAML(data, Options{AllowDeprecated: *allowDeprecated})
		if len(probs) == 0 {
			if !*quiet {
				fmt.Printf("%s: OK (envoy.config.bootstrap.v3.Bootstrap, all typed configs checked)\n", file)
			}
			continue
		}
		failed = true
		for _, p := range probs {
			fmt.Fprintf(os.Stderr, "%s: %s\n", file, p)
		}
		fmt.Fprintf(os.Stderr, "%s: INVALID (%d problem(s))\n", file, len(probs))
	}
	if failed {
		os.Exit(1)
	}
}
