cat > w.pl <<'EOF'
use strict; use warnings;
my %h = (apple => 3, banana => 7, cherry => 5);
$h{date} = 11; delete $h{banana};
for my $k (sort keys %h) { printf "%-7s %3d %s\n", $k, $h{$k}, ($h{$k} > 4 ? "big" : "small"); }
my @sorted = sort { $h{$b} <=> $h{$a} } keys %h; print "by value: @sorted\n";
my %count; $count{$_}++ for split //, "mississippi"; print join(",", map { "$_=$count{$_}" } sort keys %count), "\n";
my $text = "2024-03-15 error: disk full; 2024-03-16 warn: cpu hot; 2024-03-17 error: fan";
my @errs = $text =~ /(\d{4}-\d\d-\d\d) error: (\w+)/g; print "errors: @errs\n";
(my $t2 = $text) =~ s/(\d+)-(\d+)-(\d+)/$3.$2.$1/g; print "$t2\n";
print "named: $+{y}/$+{m}\n" if "on 1999-12" =~ /(?<y>\d{4})-(?<m>\d\d)/;
my @w = split /\s*;\s*/, $text; print scalar(@w), " parts, tr count ", ($text =~ tr/e//), "\n";
print sprintf("%05.1f|%-6s|%+d|%x|%o|%e|%s", 3.14159, "ab", 5, 255, 8, 1234.5, join("", reverse 1..5)), "\n";
my @nested = ([1, 2], {a => [3, 4]}); print "nested $nested[0][1] $nested[1]{a}[1] ", ref($nested[1]), "\n";
my $sub = sub { my $n = shift; return $n <= 1 ? 1 : $n * __SUB__->($n - 1) } if 0;
sub fib { my $n = shift; $n < 2 ? $n : fib($n - 1) + fib($n - 2) } print "fib20 ", fib(20), "\n";
open(my $out, '>', 'data.txt') or die "open: $!"; print $out "line $_\n" for 1..1000; close($out);
open(my $in, '<', 'data.txt') or die; my ($n, $sum) = (0, 0);
while (my $l = <$in>) { chomp $l; $n++; $sum += (split / /, $l)[1]; } close($in);
print "read $n lines sum $sum size ", -s 'data.txt', "\n";
open(my $ap, '>>', 'data.txt') or die; print $ap "extra\n"; close $ap;
open($in, '<', 'data.txt') or die; my @all = <$in>; close $in; print "now ", scalar(@all), " last $all[-1]";
opendir(my $dh, '.') or die; my @files = sort grep { !/^\./ } readdir($dh); closedir $dh; print "files @files\n";
rename 'data.txt', 'moved.txt' or die; print "renamed ", (-e 'moved.txt' ? 1 : 0), (-e 'data.txt' ? 1 : 0), "\n";
unlink 'moved.txt'; mkdir 'd' or die; rmdir 'd' or die; print "dir ops ok\n";
my @kids;
for my $i (1..4) {
  pipe(my $r, my $wfh) or die;
  my $pid = fork(); die "fork: $!" unless defined $pid;
  if ($pid == 0) { close $r; print $wfh "child $i says ", $i * $i, "\n"; close $wfh; exit($i); }
  close $wfh; push @kids, [$pid, $r, $i];
}
for my $k (@kids) {
  my ($pid, $r, $i) = @$k; my $msg = <$r>; close $r;
  my $got = waitpid($pid, 0); print "waited ", ($got == $pid ? "ok" : "bad"), " status ", $? >> 8, " $msg";
}
my $pid = fork(); if (!$pid) { kill 'TERM', $$; sleep 10; exit 0 } waitpid($pid, 0); print "signalled ", $? & 127, "\n";
local $SIG{ALRM} = sub { die "alarm\n" }; eval { alarm 1; select(undef, undef, undef, 5); alarm 0; }; print "eval: $@";
my $s = `echo backtick`; print "bt $s"; system("sh", "-c", "exit 3"); print "system ", $? >> 8, "\n";
open(my $ph, '-|', 'seq', '1', '5') or die; my @seq = <$ph>; close $ph; print "pipe open ", scalar(@seq), "\n";
use POSIX qw(floor strftime); print floor(-2.5), " ", strftime("%Y-%m-%d", gmtime(0)), "\n";
use List::Util qw(sum max first); print sum(1..100), " ", max(3, 9, 2), " ", first { $_ > 3 } (1..10); print "\n";
EOF
perl w.pl
perl -ne 'print if /^l/' <<< $'la\nb\nlc'; perl -le 'print join ",", map { $_ ** 2 } 1..5'
perl -pi -e 's/a/A/g' w.pl && grep -c 'Apple' w.pl
cat > w2.pl <<'EOF2'
use strict; use warnings; use IO::Socket::INET; use IO::Select; use Fcntl qw(:flock SEEK_SET O_CREAT O_EXCL O_WRONLY); use POSIX ":sys_wait_h";
# loopback TCP server and forked clients
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5, ReuseAddr => 1) or die "listen: $!";
my $port = $srv->sockport;
my @pids;
for my $i (1..3) {
  my $pid = fork(); die unless defined $pid;
  if (!$pid) { my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die "connect: $!"; print $c "hello $i\n"; my $r = <$c>; exit($r eq "HELLO $i\n" ? 0 : 1); }
  push @pids, $pid;
}
my $sel = IO::Select->new($srv); my $served = 0;
while ($served < 3) { for my $s ($sel->can_read(10)) { if ($s == $srv) { $sel->add($srv->accept) } else { my $l = <$s>; if (defined $l) { print $s uc $l; $served++ } $sel->remove($s); close $s } } }
my @st = map { waitpid($_, 0); $? >> 8 } @pids; print "tcp served $served, client status @st\n";
# flock, read/write/seek/truncate, utime, stat, -M
open(my $fh, '+>', 'rw.dat') or die; flock($fh, LOCK_EX) or die; print $fh "0123456789"; seek($fh, 3, SEEK_SET); read($fh, my $buf, 4); print "seek/read $buf tell ", tell($fh), "\n";
truncate($fh, 5); seek($fh, 0, SEEK_SET); local $/; my $all = <$fh>; print "truncated '$all'\n"; flock($fh, LOCK_UN); close $fh;
utime(1000000000, 1000000000, 'rw.dat'); my @s = stat('rw.dat'); printf "stat size %d mode %o mtime %d\n", $s[7], $s[2] & 07777, $s[9];
sysopen(my $x, 'excl', O_CREAT | O_EXCL | O_WRONLY) or die; close $x; print "sysopen again: ", (sysopen($x, 'excl', O_CREAT | O_EXCL | O_WRONLY) ? "ok" : "failed"), "\n";
# SIGCHLD handler with WNOHANG reaping, kill 0, alarm with sleep
my $reaped = 0; local $SIG{CHLD} = sub { while ((my $p = waitpid(-1, WNOHANG)) > 0) { $reaped++ } };
for (1..5) { my $p = fork(); if (!$p) { exit 0 } }
my $t0 = time; while ($reaped < 5 && time - $t0 < 20) { select(undef, undef, undef, 0.05) } print "reaped $reaped\n";
$SIG{CHLD} = 'DEFAULT'; print "kill 0 self: ", kill(0, $$), "\n";
pipe(my $r, my $w) or die; my $p = fork(); if (!$p) { close $r; open(STDOUT, '>&', $w); exec('echo', 'exec in child') or die } close $w; print "from exec: ", scalar(<$r>); waitpid($p, 0);
print "sorted nums: @{[ sort { $a <=> $b } (10, 9, 100, 1) ]}\n"; printf "%.3f %s\n", 1 / 3, join('|', map { sprintf '%03b', $_ } 0..3);
EOF2
perl w2.pl
