package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// rendered is one object of the kustomize output, with the fields the
// checks below read.
type rendered struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Data  map[string]string `yaml:"data"`
	Rules []struct {
		Resources     []string `yaml:"resources"`
		ResourceNames []string `yaml:"resourceNames"`
		Verbs         []string `yaml:"verbs"`
	} `yaml:"rules"`
	RoleRef  struct{ Kind, Name string } `yaml:"roleRef"`
	Subjects []struct{ Kind, Name, Namespace string }
	Spec     struct {
		Template struct {
			Spec struct {
				ServiceAccountName string `yaml:"serviceAccountName"`
				Containers         []struct {
					Env []envVar `yaml:"env"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// renderKustomization runs kustomize (the Go library kubectl embeds) over
// deploy/kubernetes, with an obviously fake key where the operator puts
// the real one.
func renderKustomization(t *testing.T) []rendered {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	dir := filepath.Join(deployDir, "kubernetes")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		_ = fs.WriteFile("/k/"+e.Name(), b)
	}
	_ = fs.WriteFile("/k/anthropic-api-key", []byte("sk-ant-api03-FAKE-EXAMPLE-key\n"))
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/k")
	if err != nil {
		t.Fatalf("kustomize build deploy/kubernetes: %v", err)
	}
	out, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return decodeAll(t, out)
}

func decodeAll(t *testing.T, src []byte) []rendered {
	var objs []rendered
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var o rendered
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			return objs
		} else if err != nil {
			t.Fatalf("kustomize output: %v", err)
		}
		objs = append(objs, o)
	}
}

func find(objs []rendered, kind, name string) *rendered {
	for i := range objs {
		if objs[i].Kind == kind && objs[i].Metadata.Name == name {
			return &objs[i]
		}
	}
	return nil
}

// TestKustomizationRenders: the base builds; everything namespaced lands
// in airlock-system; the DaemonSet runs as the service account with its
// node's name, mounts the generated Secret, and the config it is given
// publishes the CA only into ConfigMaps that account may write.
func TestKustomizationRenders(t *testing.T) {
	objs := renderKustomization(t)
	for _, o := range objs {
		if o.Kind != "Namespace" && o.Kind != "ClusterRole" && o.Metadata.Namespace != "airlock-system" {
			t.Errorf("%s %s in namespace %q, want airlock-system", o.Kind, o.Metadata.Name, o.Metadata.Namespace)
		}
	}
	ds, sec, cm := find(objs, "DaemonSet", "airlockd"), find(objs, "Secret", "airlock-credentials"), find(objs, "ConfigMap", "airlock-config")
	if ds == nil || sec == nil || cm == nil {
		t.Fatalf("rendered %d objects: want the DaemonSet, the generated Secret and the config", len(objs))
	}
	if _, ok := sec.Data["anthropic-api-key"]; !ok {
		t.Errorf("the generated Secret has no anthropic-api-key")
	}
	pod := ds.Spec.Template.Spec
	if find(objs, "ServiceAccount", pod.ServiceAccountName) == nil {
		t.Errorf("the DaemonSet's service account %q is not rendered", pod.ServiceAccountName)
	}
	if !hasNodeName(pod.Containers[0].Env) {
		t.Errorf("airlockd has no NODE_NAME from spec.nodeName (the key of its CA)")
	}
	cfg := loadRendered(t, cm.Data["airlock.yaml"])
	if len(cfg.Capture.Containers.CAConfigMaps) == 0 {
		t.Fatal("the DaemonSet's config publishes the CA nowhere")
	}
	for _, ref := range cfg.Capture.Containers.CAConfigMaps {
		ns, name, _ := strings.Cut(ref, "/")
		if !mayPublish(objs, pod.ServiceAccountName, ns, name) {
			t.Errorf("ca_configmaps %s: the service account may not get, patch and create it there", ref)
		}
	}
}

type envVar struct {
	Name      string `yaml:"name"`
	ValueFrom struct {
		FieldRef struct {
			FieldPath string `yaml:"fieldPath"`
		} `yaml:"fieldRef"`
	} `yaml:"valueFrom"`
}

func hasNodeName(env []envVar) bool {
	for _, e := range env {
		if e.Name == "NODE_NAME" && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName" {
			return true
		}
	}
	return false
}

func loadRendered(t *testing.T, src string) *Config {
	t.Helper()
	f := filepath.Join(t.TempDir(), "airlock.yaml")
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Source{File: f})
	if err != nil {
		t.Fatalf("the rendered airlock.yaml: %v", err)
	}
	return c
}

// mayPublish: a RoleBinding in ns binds sa to a role that grants get and
// patch on ConfigMap name, and create on ConfigMaps.
func mayPublish(objs []rendered, sa, ns, name string) bool {
	for _, rb := range objs {
		if rb.Kind != "RoleBinding" || rb.Metadata.Namespace != ns || !bindsSA(rb, sa) {
			continue
		}
		if role := find(objs, rb.RoleRef.Kind, rb.RoleRef.Name); role != nil && grants(role, name) {
			return true
		}
	}
	return false
}

func bindsSA(rb rendered, sa string) bool {
	for _, s := range rb.Subjects {
		if s.Kind == "ServiceAccount" && s.Name == sa && s.Namespace == "airlock-system" {
			return true
		}
	}
	return false
}

func grants(role *rendered, name string) bool {
	var named, create bool
	for _, r := range role.Rules {
		if !slices.Contains(r.Resources, "configmaps") {
			continue
		}
		if slices.Contains(r.ResourceNames, name) && slices.Contains(r.Verbs, "get") && slices.Contains(r.Verbs, "patch") {
			named = true
		}
		if len(r.ResourceNames) == 0 && slices.Contains(r.Verbs, "create") {
			create = true
		}
	}
	return named && create
}
