package humanize

import "testing"

func TestBytes(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{999, "999 B"},
		{1000, "1.0 KB"},
		{1024, "1.0 KB"},
		{12_345, "12.3 KB"},
		{999_949, "999.9 KB"},
		{999_950, "1.0 MB"}, // rounds up: never "1000.0 KB"
		{999_999, "1.0 MB"},
		{4_500_000, "4.5 MB"},
		{64 << 20, "67.1 MB"},
		{999_999_999, "1.0 GB"},
		{1_500_000_000_000, "1500.0 GB"},
	} {
		if got := Bytes(tt.n); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
		if got := string(AppendBytes([]byte("x"), tt.n)); got != "x"+tt.want {
			t.Errorf("AppendBytes(x, %d) = %q", tt.n, got)
		}
	}
}

func TestClip(t *testing.T) {
	for _, tt := range []struct {
		s     string
		n     int
		want  string
		cut   int
		short string
	}{
		{"hello", 0, "hello", 0, "hello"},  // 0: no limit
		{"hello", -1, "hello", 0, "hello"}, // nor below
		{"hello", 5, "hello", 0, "hello"},
		{"hello", 9, "hello", 0, "hello"},
		{"hello", 3, "hel", 2, "hel…"},
		{"héllo", 4, "héll", 1, "héll…"}, // 6 bytes, 5 runes
		{"日本語", 3, "日本語", 0, "日本語"},      // 9 bytes, 3 runes: whole
		{"日本語です", 2, "日本", 3, "日本…"},
		{"a\xffb", 2, "a\xff", 1, "a\xff…"}, // an invalid byte counts as one character
		{"héllo wörld", 4, "héll", 7, "héll…"},
		{"☀️☀️", 1, "☀", 3, "☀…"}, // ☀ and U+FE0F are two characters
	} {
		got, cut := Clip(tt.s, tt.n)
		if got != tt.want || cut != tt.cut {
			t.Errorf("Clip(%q, %d) = %q, %d; want %q, %d", tt.s, tt.n, got, cut, tt.want, tt.cut)
		}
		if got := Shorten(tt.s, tt.n); got != tt.short {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.short)
		}
	}
}
