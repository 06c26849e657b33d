package config

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// No cluster runs these manifests here: these tests hold their structure to
// what airlockd needs and to what the systemd unit proves (e2e/caps_test.go).

type k8sDoc struct {
	Kind string `yaml:"kind"`
	Spec struct {
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		podSpec `yaml:",inline"`
	} `yaml:"spec"`
}

type podSpec struct {
	HostPID    bool        `yaml:"hostPID"`
	Volumes    []volume    `yaml:"volumes"`
	Containers []container `yaml:"containers"`
	Init       []container `yaml:"initContainers"`
}

type volume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
	HostPath *struct {
		Path string `yaml:"path"`
	} `yaml:"hostPath"`
}

type container struct {
	Env []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	SecurityContext struct {
		Capabilities struct {
			Add []string `yaml:"add"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
}

func k8sDocs(t *testing.T, name string) []k8sDoc {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(deployDir, "kubernetes", name))
	if err != nil {
		t.Fatal(err)
	}
	var docs []k8sDoc
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var d k8sDoc
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			return docs
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs = append(docs, d)
	}
}

func hostPaths(s podSpec) []string {
	var out []string
	for _, v := range s.Volumes {
		if v.HostPath != nil {
			out = append(out, v.HostPath.Path)
		}
	}
	return out
}

// TestDaemonSetHasWhatCaptureNeeds: host pids (callers' /proc and their
// network namespaces), bpffs, the cgroup tree, the CA's state directory, the
// CRI runtimes' socket directories, and exactly the unit's capability set.
func TestDaemonSetHasWhatCaptureNeeds(t *testing.T) {
	var ds *podSpec
	for _, d := range k8sDocs(t, "daemonset.yaml") {
		if d.Kind == "DaemonSet" {
			ds = &d.Spec.Template.Spec
		}
	}
	if ds == nil || !ds.HostPID || len(ds.Containers) != 1 {
		t.Fatalf("daemonset.yaml: want one DaemonSet with hostPID and one container, got %+v", ds)
	}
	for _, p := range []string{"/sys/fs/bpf", "/sys/fs/cgroup", "/var/lib/airlock", "/run/containerd", "/run/crio"} {
		if !slices.Contains(hostPaths(*ds), p) {
			t.Errorf("DaemonSet lacks the hostPath %s", p)
		}
	}
	got := slices.Sorted(slices.Values(ds.Containers[0].SecurityContext.Capabilities.Add))
	if want := unitCapSet(t); !slices.Equal(got, want) {
		t.Errorf("DaemonSet capabilities %v, want the unit's %v (proven by e2e/caps_test.go)", got, want)
	}
}

// unitCapSet is the unit's CapabilityBoundingSet without the CAP_ prefix, sorted.
func unitCapSet(t *testing.T) []string {
	f, err := os.Open(filepath.Join(deployDir, "airlockd.service"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if v, ok := strings.CutPrefix(sc.Text(), "CapabilityBoundingSet="); ok {
			var caps []string
			for _, c := range strings.Fields(v) {
				caps = append(caps, strings.TrimPrefix(c, "CAP_"))
			}
			return slices.Sorted(slices.Values(caps))
		}
	}
	t.Fatal("no CapabilityBoundingSet in the unit")
	return nil
}

// TestPodTrustSnippet: the CA comes from the ConfigMap airlockd publishes
// (not a hostPath: the node's state directory holds the CA's key) and the
// three variables point at files the snippet writes.
func TestPodTrustSnippet(t *testing.T) {
	docs := k8sDocs(t, "pod-trust.yaml")
	if len(docs) != 1 || docs[0].Kind != "Pod" || len(docs[0].Spec.Containers) != 1 || len(docs[0].Spec.Init) != 1 {
		t.Fatalf("pod-trust.yaml: want one Pod with one init container and one container")
	}
	pod := docs[0].Spec.podSpec
	if len(hostPaths(pod)) != 0 || !mountsConfigMap(pod, "airlock-ca") {
		t.Errorf("pod-trust.yaml: want the ConfigMap airlock-ca mounted and no hostPath")
	}
	env := map[string]string{}
	for _, e := range pod.Containers[0].Env {
		env[e.Name] = e.Value
	}
	for _, name := range []string{"NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"} {
		if !strings.HasPrefix(env[name], "/airlock-trust/") {
			t.Errorf("%s = %q, want a file the init container writes in the trust volume", name, env[name])
		}
	}
}

func mountsConfigMap(s podSpec, name string) bool {
	for _, v := range s.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == name {
			return true
		}
	}
	return false
}
