#!/usr/bin/perl
# overlay-render.pl FILE: print an overlay file as it reads at one step of
# the series. A region that a later patch adds is written
#
#	#ifdef SERIES_STOCK
#	...lines the patch adds...
#	#else
#	...lines the patch removes (optional)...
#	#endif
#
# (or #ifndef), SERIES_STOCK being named in patches/overlay.map by an
# "ifdef SERIES_STOCK PATCH" line. SERIES_KNOWN lists every such symbol,
# SERIES_DEFINED those of the patches applied so far; the directives
# themselves never reach the output. Other preprocessor lines pass through.
use strict;
use warnings;

my %known = map { $_ => 1 } split ' ', $ENV{SERIES_KNOWN} // '';
my %defined = map { $_ => 1 } split ' ', $ENV{SERIES_DEFINED} // '';
my $file = $ARGV[0];
my @stack;	# per open #if: undef for others, else whether its lines are kept

sub kept { return !grep { defined $_ && !$_ } @stack; }

open(my $in, '<', $file) or die "$file: $!\n";
while (my $line = <$in>) {
	if ($line =~ /^#\s*if(n?)def\s+(SERIES_\w+)\s*$/) {
		die "$file:$.: $2 is not named in patches/overlay.map\n"
			unless $known{$2};
		push @stack, ($defined{$2} xor $1 eq 'n') ? 1 : 0;
		next;
	}
	die "$file:$.: SERIES_ symbols take #ifdef or #ifndef alone\n"
		if $line =~ /^#\s*(if|elif).*\bSERIES_/;
	if ($line =~ /^#\s*if/) {
		push @stack, undef;
	} elsif ($line =~ /^#\s*else\b/) {
		die "$file:$.: #else without #if\n" unless @stack;
		if (defined $stack[-1]) {
			$stack[-1] = !$stack[-1] ? 1 : 0;
			next;
		}
	} elsif ($line =~ /^#\s*elif\b/) {
		die "$file:$.: #elif in a SERIES_ region\n"
			if !@stack || defined $stack[-1];
	} elsif ($line =~ /^#\s*endif\b/) {
		die "$file:$.: #endif without #if\n" unless @stack;
		next if defined pop @stack;
	}
	# An indented or misspelt directive would otherwise pass through,
	# and cpp would then drop its region from every step, the last too.
	die "$file:$.: SERIES_ symbol outside a directive of its own\n"
		if $line =~ /\bSERIES_\w/;
	print $line if kept();
}
die "$file: unterminated #if\n" if @stack;
