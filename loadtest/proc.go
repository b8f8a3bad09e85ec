package loadtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// procStat is a sample of a process's memory and CPU time.
type procStat struct {
	RSS uint64  // resident set size, bytes
	CPU float64 // user + system seconds since the process started
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; Linux fixes it
// at 100 on every architecture Go supports.
const clockTicks = 100

// readProc samples process pid from /proc/<pid>/stat and /proc/<pid>/status.
func readProc(pid int) (procStat, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, fmt.Errorf("read server stat: %w", err)
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return procStat{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStat{}, fmt.Errorf("read server status: %w", err)
	}
	return procStat{RSS: parseStatusKB(status, "VmRSS:") * 1024, CPU: cpu}, nil
}

// parseStatCPU returns utime+stime in seconds from a /proc/<pid>/stat line.
// The command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStatCPU(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("parse server stat: no ')'")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("parse server stat: too few fields")
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("parse server stat: bad utime/stime")
	}
	return float64(u+s) / clockTicks, nil
}

// parseStatusKB returns the kB value of a /proc/<pid>/status line.
func parseStatusKB(status []byte, key string) uint64 {
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseUint(f[0], 10, 64) // 0 on garbage is fine for a report
				return v
			}
		}
	}
	return 0
}

// findServerPID looks through /proc for a process whose program is named
// "parley" and whose arguments include "serve".
func findServerPID() (int, error) {
	paths, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		return 0, fmt.Errorf("find server: %w", err)
	}
	var found []int
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil || len(data) == 0 {
			continue // the process ended or is not ours to read
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if filepath.Base(args[0]) != "parley" || !slices.Contains(args[1:], "serve") {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err == nil && pid != os.Getpid() {
			found = append(found, pid)
		}
	}
	switch len(found) {
	case 0:
		return 0, errors.New("find server: no \"parley serve\" process; give -server-pid")
	case 1:
		return found[0], nil
	}
	return 0, fmt.Errorf("find server: several \"parley serve\" processes %v; give -server-pid", found)
}

// selfCPU returns this process's user + system CPU seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}
