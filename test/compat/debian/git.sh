export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z' GIT_CONFIG_NOSYSTEM=1
git config --global init.defaultBranch main
git config --global user.name 'Test User'; git config --global user.email test@example.com
git init -q repo && cd repo
printf 'line one\nline two\n' > README; mkdir src; echo 'print(1)' > src/a.py
git add README src; git commit -q -m 'first commit'
echo 'line three' >> README; sed -i 's/one/ONE/' README; echo 'print(2)' > src/b.py
git diff --stat; git diff README
git add -A; GIT_COMMITTER_DATE='2024-01-02T00:00:00Z' GIT_AUTHOR_DATE='2024-01-02T00:00:00Z' git commit -q -m 'second commit'
git log --oneline; git log --format='%an <%ae> %ad %s' --date=iso-strict
git diff HEAD~1 --name-status; git show --stat --format=%s HEAD | tail -3
git branch feature; git checkout -q feature; git branch --list | tr -s ' '
echo 'feature work' > feature.txt; git add feature.txt; git commit -q -m 'feature'
git checkout -q main; ls | tr '\n' ' '; echo
git merge -q --no-edit feature 2>&1; git log --oneline --graph | sed -n 1,5p
git status --short; git status --porcelain=v2 --branch | sed -n 1,2p
git rev-parse --abbrev-ref HEAD; git rev-list --count HEAD; git cat-file -t HEAD; git ls-files | tr '\n' ' '; echo
git tag -a v1 -m 'version 1'; git describe; git stash list | wc -l
echo dirty >> README; git stash -q; git stash list | cut -d: -f1; git stash pop -q; git diff --shortstat
git checkout -q -- README; git gc -q; git count-objects -v | grep -E '^(count|in-pack)'
git fsck --no-progress 2>&1 | grep -v '^Checking' || true
git clone -q "$PWD" ../clone && git -C ../clone log --oneline | wc -l
git -C ../clone checkout -q -b other && git -C ../clone branch | tr -s ' ' | tr '\n' ' '; echo
# packs, threads (grep, index-pack), worktrees, archive, bisect, hooks, rebase
for i in $(seq 1 30); do seq $i $((i * 50)) > "f$i.txt"; done; git add . && git commit -q -m 'many files'
git repack -a -d -q; git count-objects -v | grep -E '^(count|packs)'; git verify-pack -v .git/objects/pack/*.idx | tail -1 | sed 's/[0-9]* objects*/N objects/'
git grep -c 'line' -- README; git grep -l '^777$' | tr '\n' ' '; echo; git -c grep.threads=4 grep -c '^1' | wc -l
git worktree add -q ../wt feature && git -C ../wt log --oneline -1 && git worktree list | wc -l && git worktree remove ../wt
git archive --format=tar --prefix=p/ HEAD | tar -tf - | wc -l; git archive --format=tar.gz HEAD README | gzip -dc | tar -xOf - README
git bisect start HEAD v1 > /dev/null; git bisect run sh -c '! test -f f1.txt' | grep -c 'is the first bad commit'; git bisect reset > /dev/null 2>&1
printf '#!/bin/sh\necho "hook ran: $(cat "$1" | head -1)" >&2\n' > .git/hooks/commit-msg; chmod +x .git/hooks/commit-msg
echo hooked > hook.txt; git add hook.txt; git commit -q -m 'hooked commit' 2>&1
git checkout -q -b topic HEAD~2; echo topic > topic.txt; git add topic.txt; git commit -q -m topic; git rebase -q main 2>&1; git log --oneline | wc -l
git log --format=%s -3; git reflog | wc -l | awk '{print ($1 > 5)}'; git blame -s README | cut -c10- | sed -n 1,3p
git format-patch -q -1 --stdout | grep -c '^Subject:'; git fsck --strict --no-dangling 2>&1 | { grep -v '^Checking' || true; } | wc -l
