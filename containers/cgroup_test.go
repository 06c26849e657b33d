package containers

import "testing"

const id64 = "3f1a9c0d5e7b2a4c6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f809"

func TestFromCgroup(t *testing.T) {
	cases := []struct {
		path string
		want Identity
	}{
		{"/docker/" + id64, Identity{ID: id64, Runtime: "docker"}},
		{"/system.slice/docker-" + id64 + ".scope", Identity{ID: id64, Runtime: "docker"}},
		{"/airlock-e2e-x/" + id64, Identity{ID: id64}},
		{"/machine.slice/libpod-" + id64 + ".scope/container", Identity{ID: id64, Runtime: "podman"}},
		{"/kubepods/burstable/pod0f9b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d/" + id64,
			Identity{ID: id64, PodUID: "0f9b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"}},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f9b1c2d_3e4f_5a6b_7c8d_9e0f1a2b3c4d.slice/cri-containerd-" + id64 + ".scope",
			Identity{ID: id64, Runtime: "containerd", PodUID: "0f9b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"}},
		// Guaranteed pods have no QoS level; CRI-O under cgroupfs and systemd.
		{"/kubepods/pod0f9b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d/" + id64,
			Identity{ID: id64, PodUID: "0f9b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"}},
		{"/kubepods.slice/kubepods-pod0f9b1c2d_3e4f_5a6b_7c8d_9e0f1a2b3c4d.slice/cri-containerd-" + id64 + ".scope",
			Identity{ID: id64, Runtime: "containerd", PodUID: "0f9b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"}},
		{"/kubepods/burstable/pod0f9b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d/crio-" + id64,
			Identity{ID: id64, Runtime: "crio", PodUID: "0f9b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"}},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f9b1c2d_3e4f_5a6b_7c8d_9e0f1a2b3c4d.slice/crio-" + id64 + ".scope",
			Identity{ID: id64, Runtime: "crio", PodUID: "0f9b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"}},
		// CRI-O's conmon monitors the container from a scope of its own: not the container.
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f9b1c2d_3e4f_5a6b_7c8d_9e0f1a2b3c4d.slice/crio-conmon-" + id64 + ".scope",
			Identity{PodUID: "0f9b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"}},
		{"/system.slice/ssh.service", Identity{}},
		{"/user.slice/" + id64[:63], Identity{}}, // too short to be an id
	}
	for _, c := range cases {
		if got := FromCgroup(c.path); got != c.want {
			t.Errorf("FromCgroup(%q) = %+v, want %+v", c.path, got, c.want)
		}
	}
}

func FuzzFromCgroup(f *testing.F) {
	f.Add("/docker/" + id64)
	f.Add("/kubepods/pod0f9b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d/x")
	f.Fuzz(func(t *testing.T, path string) {
		id := FromCgroup(path)
		if id.ID != "" && len(id.ID) != 64 {
			t.Fatalf("id %q of %q is not 64 hex digits", id.ID, path)
		}
	})
}
