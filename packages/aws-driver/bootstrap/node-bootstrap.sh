#!/bin/bash
# Berth node bootstrap: turns a fresh instance into a member of its cluster, or fails loudly.
# See docs/bootstrap.md. renderUserData() puts a block of BERTH_* data assignments (single-quoted
# literals, generated from the cluster spec) right after the first line; this file holds all the
# logic. Every step is idempotent, so a second run (or a retry after manual repair) is safe.
#
# Needs: bash 4.2+, curl, the AWS CLI (v1 or v2), coreutils, util-linux (blkid, mount, flock),
# and mkfs/grow tools for the file system (xfsprogs or e2fsprogs). No jq, no internet.

set -uo pipefail
umask 022

# ---- External effects, overridable for tests (production defaults) -------------------------
IMDS_ENDPOINT="${BERTH_IMDS_ENDPOINT:-http://169.254.169.254}"
BY_ID_DIR="${BERTH_BY_ID_DIR:-/dev/disk/by-id}"
DEV_DIR="${BERTH_DEV_DIR:-/dev}"
SYS_BLOCK_DIR="${BERTH_SYS_BLOCK_DIR:-/sys/block}"
FSTAB="${BERTH_FSTAB:-/etc/fstab}"
MOUNT_CMD="${BERTH_MOUNT_CMD:-mount}"
MOUNTPOINT_CMD="${BERTH_MOUNTPOINT_CMD:-mountpoint}"
STATE_DIR="${BERTH_STATE_DIR:-/var/lib/berth}"
LIB_DIR="${BERTH_LIB_DIR:-/usr/local/lib/berth}"
SYSTEMD_DIR="${BERTH_SYSTEMD_DIR:-/etc/systemd/system}"
SYSTEMCTL_CMD="${BERTH_SYSTEMCTL_CMD:-systemctl}"
GROW_INTERVAL_SEC="${BERTH_GROW_INTERVAL_SEC:-30}"
SLEEP_CMD="${BERTH_SLEEP_CMD:-sleep}"
BACKOFF_MAX_SEC="${BERTH_BACKOFF_MAX_SEC:-30}"
DEVICE_WAIT_SEC="${BERTH_DEVICE_WAIT_SEC:-120}"
HEALTH_INTERVAL_SEC="${BERTH_HEALTH_INTERVAL_SEC:-10}"
WAIT_POLL_SEC="${BERTH_WAIT_POLL_SEC:-15}"
AWS_ATTEMPTS="${BERTH_AWS_ATTEMPTS:-5}"
# Spot interruption watcher (docs/spot.md).
UMOUNT_CMD="${BERTH_UMOUNT_CMD:-umount}"
SPOT_POLL_SEC="${BERTH_SPOT_POLL_SEC:-5}"
export AWS_PAGER=''

# ---- Data (from the generated block above; checked here) -----------------------------------
# The group and hook names come with the data (the node policy grants no lookup of them);
# the volume id too, except in hand-rendered user data (then: a tag lookup, below).
for v in BERTH_CLUSTER BERTH_NODE_ID BERTH_REVISION BERTH_SPEC_REGION BERTH_ASG_NAME BERTH_LIFECYCLE_HOOK_NAME \
  BERTH_DEVICE_NAME BERTH_FS_TYPE BERTH_MOUNT_PATH BERTH_MOUNT_OPTIONS BERTH_MOUNT_OWNER BERTH_MOUNT_GROUP \
  BERTH_ATTACH_TIMEOUT_SEC BERTH_CONFIGURE_TIMEOUT_SEC BERTH_HEALTH_TIMEOUT_SEC BERTH_HEARTBEAT_TIMEOUT_SEC \
  BERTH_ON_FAILURE; do
  if [[ -z "${!v:-}" ]]; then
    echo "berth-bootstrap: missing data value $v (render the user data with renderUserData(spec, nodeId, revision, { volumeId, autoScalingGroupName, lifecycleHookName }))" >&2
    exit 2
  fi
done
BERTH_VOLUME_ID="${BERTH_VOLUME_ID:-}"
BERTH_CONFIGURE_SCRIPT="${BERTH_CONFIGURE_SCRIPT:-}"
BERTH_HEALTH_SCRIPT="${BERTH_HEALTH_SCRIPT:-}"
BERTH_SPOT="${BERTH_SPOT:-}"
BERTH_PRE_STOP_SCRIPT="${BERTH_PRE_STOP_SCRIPT:-}"
BERTH_PRE_STOP_TIMEOUT_SEC="${BERTH_PRE_STOP_TIMEOUT_SEC:-60}"
if ! declare -p BERTH_FILE_PATHS >/dev/null 2>&1; then
  BERTH_FILE_PATHS=() BERTH_FILE_MODES=() BERTH_FILE_OWNERS=() BERTH_FILE_CONTENTS=()
fi
if ! declare -p BERTH_FILE_SOURCES >/dev/null 2>&1; then
  BERTH_FILE_SOURCES=() BERTH_FILE_SOURCE_REFS=() BERTH_FILE_SOURCE_KEYS=() BERTH_FILE_SOURCE_VERSIONS=()
fi

# ---- Helpers ---------------------------------------------------------------------------------
log() { printf '%s berth-bootstrap: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

# Exponential backoff with jitter: 2, 4, 8... seconds, capped.
backoff_sleep() {
  local n=$1 s
  ((n > 6)) && n=6
  s=$((2 ** n))
  ((s > BACKOFF_MAX_SEC)) && s=$BACKOFF_MAX_SEC
  s=$((s / 2 + RANDOM % (s / 2 + 1)))
  "$SLEEP_CMD" "$s"
}

IMDS_TOKEN=''
imds_token() {
  local i
  for ((i = 1; i <= 8; i++)); do
    if IMDS_TOKEN=$(curl -fsS --noproxy '*' --connect-timeout 2 --max-time 5 -X PUT \
      -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "$IMDS_ENDPOINT/latest/api/token") && [[ -n $IMDS_TOKEN ]]; then
      return 0
    fi
    log "IMDSv2 token: attempt $i failed"
    backoff_sleep "$i"
  done
  return 1
}

imds_get() {
  local out i
  for ((i = 1; i <= 5; i++)); do
    if out=$(curl -fsS --noproxy '*' --connect-timeout 2 --max-time 5 \
      -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" "$IMDS_ENDPOINT/latest/$1") && [[ -n $out ]]; then
      printf '%s' "$out"
      return 0
    fi
    log "IMDS $1: attempt $i failed"
    imds_token || true # the token may have expired
    backoff_sleep "$i"
  done
  return 1
}

# aws_call ARGS...: runs the AWS CLI (text output) into AWS_OUT / AWS_ERR, retrying throttling
# and transient errors (the CLI has already made its own 3 attempts: standard retry mode).
# InternalFailure is Auto Scaling's 5xx code, Unavailable EC2's. Returns the CLI's exit code.
AWS_OUT='' AWS_ERR=''
aws_call() {
  local attempt rc=1 errf
  errf="$STATE_DIR/aws-$BASHPID.err"
  for ((attempt = 1; attempt <= AWS_ATTEMPTS; attempt++)); do
    AWS_OUT=$(aws --region "$REGION" --output text "$@" 2>"$errf")
    rc=$?
    AWS_ERR=$(tr '\n' ' ' <"$errf")
    rm -f "$errf"
    ((rc == 0)) && return 0
    case $AWS_ERR in
      *RequestLimitExceeded* | *Throttling* | *'Rate exceeded'* | *InternalError* | *InternalFailure* | *ServiceUnavailable* | \
        *Unavailable* | *'Could not connect'* | *'Connect timeout'* | *'Read timeout'*)
        log "aws $1 $2: transient error (attempt $attempt): $AWS_ERR"
        backoff_sleep "$attempt"
        ;;
      *) return "$rc" ;;
    esac
  done
  return "$rc"
}

# Reports progress as the berth:phase tag on this instance (and in $STATE_DIR/phase).
set_phase() {
  log "phase: $1"
  printf '%s\n' "$1" >"$STATE_DIR/phase"
  aws_call ec2 create-tags --resources "$INSTANCE_ID" --tags "Key=berth:phase,Value=$1" ||
    log "warning: could not tag berth:phase=$1: $AWS_ERR"
}

# Inside run_steps (a subshell): record the reason and leave the subshell.
fail() {
  printf '%s' "$1" >"$STATE_DIR/failure-reason"
  log "FAILED ($1)${2:+: $2}"
  exit 1
}

# ---- Lifecycle hook ---------------------------------------------------------------------------
ASG_NAME=$BERTH_ASG_NAME HOOK_NAME=$BERTH_LIFECYCLE_HOOK_NAME

HEARTBEAT_PID=''
start_heartbeats() {
  local interval=${BERTH_HEARTBEAT_INTERVAL_SEC:-$((BERTH_HEARTBEAT_TIMEOUT_SEC / 3))} parent=$$
  ((interval < 1)) && interval=1
  (
    sleep_pid=''
    trap 'kill "$sleep_pid" 2>/dev/null; exit 0' TERM
    while kill -0 "$parent" 2>/dev/null; do
      sleep "$interval" &
      sleep_pid=$!
      wait "$sleep_pid"
      if ! aws_call autoscaling record-lifecycle-action-heartbeat --auto-scaling-group-name "$ASG_NAME" \
        --lifecycle-hook-name "$HOOK_NAME" --instance-id "$INSTANCE_ID"; then
        case $AWS_ERR in
          *'No active Lifecycle Action'*) log "heartbeat: the lifecycle action is no longer active"; exit 0 ;;
          *) log "heartbeat failed: $AWS_ERR" ;;
        esac
      fi
    done
  ) &
  HEARTBEAT_PID=$!
}

stop_heartbeats() {
  [[ -n $HEARTBEAT_PID ]] && kill "$HEARTBEAT_PID" 2>/dev/null && wait "$HEARTBEAT_PID" 2>/dev/null
  HEARTBEAT_PID=''
}

complete_lifecycle() {
  if aws_call autoscaling complete-lifecycle-action --auto-scaling-group-name "$ASG_NAME" \
    --lifecycle-hook-name "$HOOK_NAME" --instance-id "$INSTANCE_ID" --lifecycle-action-result "$1"; then
    log "lifecycle action completed: $1"
    return 0
  fi
  log "complete-lifecycle-action $1 failed: $AWS_ERR"
  # A second run on a node that is already in service has no lifecycle action left to complete.
  if [[ $1 == CONTINUE && $AWS_ERR == *'No active Lifecycle Action'* ]] &&
    aws_call autoscaling describe-auto-scaling-instances --instance-ids "$INSTANCE_ID" \
      --query 'AutoScalingInstances[0].LifecycleState' && [[ $AWS_OUT == InService ]]; then
    log "the instance is already InService"
    return 0
  fi
  return 1
}

# ---- Steps ------------------------------------------------------------------------------------
VOLUME_ID=''
find_volume() {
  local deadline=$1 attempt=0 ids
  if [[ -n $BERTH_VOLUME_ID ]]; then
    VOLUME_ID=$BERTH_VOLUME_ID
    return 0
  fi
  while :; do
    attempt=$((attempt + 1))
    # berth:volume=data: the launch template tags root volumes with the node's tags too.
    aws_call ec2 describe-volumes --filters "Name=tag:berth:cluster,Values=$BERTH_CLUSTER" \
      "Name=tag:berth:node,Values=$BERTH_NODE_ID" "Name=tag:berth:volume,Values=data" \
      --query "Volumes[?State!='deleting' && State!='deleted'].VolumeId" ||
      fail volume-lookup-error "$AWS_ERR"
    read -r -a ids <<<"$AWS_OUT"
    if ((${#ids[@]} > 1)); then
      fail volume-ambiguous "more than one volume is tagged berth:cluster=$BERTH_CLUSTER berth:node=$BERTH_NODE_ID berth:volume=data: ${ids[*]}"
    elif ((${#ids[@]} == 1)) && [[ ${ids[0]} == vol-* ]]; then
      VOLUME_ID=${ids[0]}
      return 0
    fi
    ((SECONDS >= deadline)) && fail volume-not-found "no volume tagged berth:cluster=$BERTH_CLUSTER berth:node=$BERTH_NODE_ID berth:volume=data"
    log "volume not found yet (tags can lag), retrying"
    backoff_sleep "$attempt"
  done
}

attach_volume() {
  local deadline=$((SECONDS + BERTH_ATTACH_TIMEOUT_SEC)) attempt=0 state az inst att
  find_volume "$deadline"
  log "data volume $VOLUME_ID"
  while :; do
    attempt=$((attempt + 1))
    aws_call ec2 describe-volumes --volume-ids "$VOLUME_ID" \
      --query 'Volumes[0].[State,AvailabilityZone,Attachments[0].InstanceId,Attachments[0].State]' ||
      fail volume-lookup-error "$AWS_ERR"
    read -r state az inst att <<<"$AWS_OUT"
    [[ $az == "$AZ" ]] || fail volume-az-mismatch "$VOLUME_ID is in $az, this instance in $AZ"
    if [[ $inst == "$INSTANCE_ID" ]]; then
      [[ $att == attached ]] && return 0
      log "attachment is $att"
    elif [[ $state == available ]]; then
      if aws_call ec2 attach-volume --volume-id "$VOLUME_ID" --instance-id "$INSTANCE_ID" --device "$BERTH_DEVICE_NAME"; then
        log "attach requested ($BERTH_DEVICE_NAME)"
        attempt=0
      else
        case $AWS_ERR in
          *VolumeInUse* | *IncorrectState*) log "volume in use, retrying: $AWS_ERR" ;;
          *ZoneMismatch*) fail volume-az-mismatch "$AWS_ERR" ;;
          *) fail attach-error "$AWS_ERR" ;;
        esac
      fi
    else
      log "volume is $state (attached to $inst, $att); waiting for it to become available"
    fi
    ((SECONDS >= deadline)) && fail attach-timeout "$VOLUME_ID not attached within ${BERTH_ATTACH_TIMEOUT_SEC}s"
    backoff_sleep "$attempt"
  done
}

# The block device of the volume: on Nitro the NVMe by-id link or the NVMe serial (both carry
# the volume id, so the kernel's nvmeN order does not matter); on Xen /dev/xvdX from /dev/sdX.
DEVICE=''
find_device() {
  local deadline=$((SECONDS + DEVICE_WAIT_SEC)) volnodash=${VOLUME_ID/-/} letter link s serial name cand
  letter=${BERTH_DEVICE_NAME##*/}
  letter=${letter#sd}
  letter=${letter#xvd}
  while :; do
    link="$BY_ID_DIR/nvme-Amazon_Elastic_Block_Store_$volnodash"
    if [[ -e $link ]]; then
      DEVICE=$(readlink -f "$link")
      return 0
    fi
    for s in "$SYS_BLOCK_DIR"/nvme*/device/serial; do
      [[ -r $s ]] || continue
      serial=$(tr -d '[:space:]' <"$s")
      if [[ $serial == "$volnodash" ]]; then
        name=${s#"$SYS_BLOCK_DIR"/}
        DEVICE="$DEV_DIR/${name%%/*}"
        return 0
      fi
    done
    for cand in "$DEV_DIR/xvd$letter" "$DEV_DIR/sd$letter"; do
      if [[ -e $cand ]]; then
        DEVICE=$(readlink -f "$cand")
        return 0
      fi
    done
    ((SECONDS >= deadline)) && fail device-not-found "no device for $VOLUME_ID ($BERTH_DEVICE_NAME) after ${DEVICE_WAIT_SEC}s"
    "$SLEEP_CMD" 1
  done
}

FS_TYPE=''
prepare_filesystem() {
  local found rc nonzero
  found=$(blkid -p -o value -s TYPE "$DEVICE" 2>/dev/null)
  rc=$?
  if ((rc == 0)); then
    [[ -n $found ]] || fail device-not-blank "$DEVICE has content that is not a file system (a partition table?); not formatting"
    case $found in
      xfs | ext4) ;;
      *) fail unsupported-filesystem "$DEVICE holds $found; Berth mounts xfs or ext4 only" ;;
    esac
    [[ $found == "$BERTH_FS_TYPE" ]] || log "warning: $DEVICE holds $found, the spec says $BERTH_FS_TYPE; keeping $found"
    FS_TYPE=$found
    log "$DEVICE holds a $found file system: not formatting"
  elif ((rc == 2)); then
    # blkid found no signature; belt and braces: the first MiB must be zeros too.
    nonzero=$(head -c 1048576 "$DEVICE" | tr -d '\0' | wc -c)
    ((nonzero == 0)) || fail device-not-blank "$DEVICE has no known signature but is not blank; not formatting"
    log "$DEVICE is blank: formatting as $BERTH_FS_TYPE"
    case $BERTH_FS_TYPE in
      xfs) mkfs.xfs -q "$DEVICE" </dev/null || fail format-failed ;;
      ext4) mkfs.ext4 -q "$DEVICE" </dev/null || fail format-failed ;;
      *) fail unsupported-filesystem "$BERTH_FS_TYPE" ;;
    esac
    FS_TYPE=$BERTH_FS_TYPE
  else
    fail device-probe-failed "blkid exited $rc on $DEVICE"
  fi
}

FSTAB_OPTIONS=''
write_fstab() {
  local uuid opts=$BERTH_MOUNT_OPTIONS passno=2 line tmp
  uuid=$(blkid -p -o value -s UUID "$DEVICE")
  [[ -n $uuid ]] || fail device-probe-failed "no UUID on $DEVICE"
  [[ ,$opts, == *,nofail,* ]] || opts="$opts,nofail"
  FSTAB_OPTIONS=$opts
  [[ $FS_TYPE == xfs ]] && passno=0
  line="UUID=$uuid $BERTH_MOUNT_PATH $FS_TYPE $opts 0 $passno"
  [[ -e $FSTAB ]] || : >"$FSTAB" || fail fstab-failed
  tmp=$(mktemp "$STATE_DIR/fstab.XXXXXX") || fail fstab-failed
  # Keep every entry except an older one for this mount point or this file system, then add ours.
  if ! awk -v mp="$BERTH_MOUNT_PATH" -v id="UUID=$uuid" '/^[[:space:]]*#/ || !($1 == id || $2 == mp)' "$FSTAB" >"$tmp"; then
    fail fstab-failed "cannot read $FSTAB"
  fi
  printf '%s\n' "$line" >>"$tmp" || fail fstab-failed
  if [[ "$(cat "$FSTAB")" == "$(cat "$tmp")" ]]; then
    log "fstab already has: $line"
  else
    cat "$tmp" >"$FSTAB" || fail fstab-failed
    log "fstab: $line"
  fi
  rm -f "$tmp"
}

mount_volume() {
  mkdir -p "$BERTH_MOUNT_PATH" || fail mount-failed "cannot create $BERTH_MOUNT_PATH"
  if "$MOUNTPOINT_CMD" -q "$BERTH_MOUNT_PATH"; then
    log "$BERTH_MOUNT_PATH is already mounted"
  else
    # The device itself, not UUID=: right after mkfs the by-uuid link may not exist yet, and with
    # nofail a mount that finds no device "succeeds" without mounting. fstab serves the reboots.
    "$MOUNT_CMD" -t "$FS_TYPE" -o "$FSTAB_OPTIONS" "$DEVICE" "$BERTH_MOUNT_PATH" || fail mount-failed "mount $DEVICE on $BERTH_MOUNT_PATH failed"
    "$MOUNTPOINT_CMD" -q "$BERTH_MOUNT_PATH" || fail mount-failed "$BERTH_MOUNT_PATH is not a mount point after mounting"
    log "mounted $DEVICE on $BERTH_MOUNT_PATH"
  fi
}

# The grow logic, in one place: the bootstrap writes it as a script, runs it once the volume is
# mounted (a volume made larger while no instance had it), and the watcher (berth-grow-fs.timer)
# runs it every GROW_INTERVAL_SEC on the running node (ModifyVolume: no reboot needed).
GROW_SCRIPT="$LIB_DIR/grow-filesystem"
write_grow_script() {
  mkdir -p "$LIB_DIR" || fail grow-failed "cannot create $LIB_DIR"
  cat >"$GROW_SCRIPT.tmp" <<'GROW' || fail grow-failed "cannot write $GROW_SCRIPT"
#!/bin/bash
# Written by the Berth bootstrap (node-bootstrap.sh). Usage: grow-filesystem DEVICE MOUNT_PATH FS_TYPE
# Grows the xfs or ext4 file system on DEVICE (mounted on MOUNT_PATH) when the device is larger.
set -uo pipefail
DEVICE=$1 MOUNT_PATH=$2 FS_TYPE=$3
log() { printf '%s berth-grow-filesystem: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
device_bytes() {
  if [[ -b $DEVICE ]]; then blockdev --getsize64 "$DEVICE"; else stat -L -c %s "$DEVICE"; fi
}
fs_bytes() {
  local out line count size
  case $FS_TYPE in
    ext4)
      out=$(dumpe2fs -h "$DEVICE" 2>/dev/null) || return 1
      count=$(awk -F: '/^Block count:/ { gsub(/ /, "", $2); print $2 }' <<<"$out")
      size=$(awk -F: '/^Block size:/ { gsub(/ /, "", $2); print $2 }' <<<"$out")
      ;;
    xfs)
      out=$(xfs_info "$DEVICE" 2>/dev/null) || return 1
      while IFS= read -r line; do
        if [[ $line == data* && $line =~ bsize=([0-9]+)[[:space:]]+blocks=([0-9]+) ]]; then
          size=${BASH_REMATCH[1]} count=${BASH_REMATCH[2]}
        fi
      done <<<"$out"
      ;;
  esac
  [[ ${count:-} =~ ^[0-9]+$ && ${size:-} =~ ^[0-9]+$ ]] || return 1
  echo $((count * size))
}
dev=$(device_bytes) || { log "cannot read the size of $DEVICE"; exit 1; }
fs=$(fs_bytes) || { log "cannot read the size of the file system on $DEVICE"; exit 1; }
if ((dev - fs <= 8 * 1024 * 1024)); then
  log "file system fills the device ($fs of $dev bytes)"
  exit 0
fi
log "device is larger than the file system ($dev > $fs bytes): growing"
case $FS_TYPE in
  xfs) xfs_growfs "$MOUNT_PATH" >&2 || exit 1 ;;
  ext4) resize2fs "$DEVICE" >&2 || exit 1 ;;
  *) log "unsupported file system $FS_TYPE"; exit 1 ;;
esac
GROW
  chmod 0755 "$GROW_SCRIPT.tmp" || fail grow-failed "cannot make $GROW_SCRIPT executable"
  mv -f "$GROW_SCRIPT.tmp" "$GROW_SCRIPT" || fail grow-failed "cannot install $GROW_SCRIPT"
}

# A volume made larger (ModifyVolume, or created bigger than its snapshot) gets its file system grown.
grow_filesystem() {
  "$GROW_SCRIPT" "$DEVICE" "$BERTH_MOUNT_PATH" "$FS_TYPE" || fail grow-failed "growing the $FS_TYPE file system on $DEVICE failed"
}

# The watcher: a timer that runs the grow script, so ModifyVolume grows the file system online.
# No internet, no AWS call. Without systemd the node still works; it grows at its next boot.
install_grow_watcher() {
  mkdir -p "$SYSTEMD_DIR" || { log "warning: cannot create $SYSTEMD_DIR: no online file system growth"; return 0; }
  if ! printf '%s\n' '[Unit]' 'Description=Berth: grow the data file system when its EBS volume grew' \
    "ConditionPathIsMountPoint=$BERTH_MOUNT_PATH" '' '[Service]' 'Type=oneshot' \
    "ExecStart=$GROW_SCRIPT $DEVICE $BERTH_MOUNT_PATH $FS_TYPE" >"$SYSTEMD_DIR/berth-grow-fs.service"; then
    log "warning: cannot write $SYSTEMD_DIR/berth-grow-fs.service: no online file system growth"
    return 0
  fi
  if ! printf '%s\n' '[Unit]' 'Description=Berth: watch the data volume size' '' '[Timer]' \
    "OnBootSec=${GROW_INTERVAL_SEC}s" "OnUnitActiveSec=${GROW_INTERVAL_SEC}s" 'AccuracySec=5s' '' \
    '[Install]' 'WantedBy=timers.target' >"$SYSTEMD_DIR/berth-grow-fs.timer"; then
    log "warning: cannot write $SYSTEMD_DIR/berth-grow-fs.timer: no online file system growth"
    return 0
  fi
  if "$SYSTEMCTL_CMD" daemon-reload && "$SYSTEMCTL_CMD" enable --now berth-grow-fs.timer; then
    log "watcher berth-grow-fs.timer runs every ${GROW_INTERVAL_SEC}s"
  else
    log "warning: could not enable berth-grow-fs.timer: the file system grows at the next boot only"
  fi
}

# fetch_file_source I TMP: writes file I's content from its source (SSM Parameter Store or S3)
# into TMP (mktemp made it 0600), with the instance role. Never logs the content; a failure
# names the file and the source and fails the phase (file-source-not-found / -denied / -failed).
fetch_file_source() {
  local i=$1 tmp=$2 src=${BERTH_FILE_SOURCES[$1]:-} ref=${BERTH_FILE_SOURCE_REFS[$1]:-} what
  case $src in
    ssm)
      what="SSM parameter $ref"
      # Text output prints the value and one newline; $(...) drops trailing newlines: one is put back.
      if aws_call ssm get-parameter --name "$ref" --with-decryption --query Parameter.Value; then
        printf '%s\n' "$AWS_OUT" >"$tmp" && AWS_OUT='' && return 0
        fail files-failed "cannot write ${BERTH_FILE_PATHS[i]}"
      fi
      ;;
    s3)
      what="s3://$ref/${BERTH_FILE_SOURCE_KEYS[i]}${BERTH_FILE_SOURCE_VERSIONS[i]:+ (version ${BERTH_FILE_SOURCE_VERSIONS[i]})}"
      if aws_call s3api get-object --bucket "$ref" --key "${BERTH_FILE_SOURCE_KEYS[i]}" \
        ${BERTH_FILE_SOURCE_VERSIONS[i]:+--version-id "${BERTH_FILE_SOURCE_VERSIONS[i]}"} "$tmp"; then
        return 0
      fi
      ;;
    *) fail files-failed "unknown source '$src' for ${BERTH_FILE_PATHS[i]}" ;;
  esac
  rm -f "$tmp"
  case $AWS_ERR in
    *ParameterNotFound* | *ParameterVersionNotFound* | *NoSuchKey* | *NoSuchBucket* | *NoSuchVersion* | *'(404)'*)
      fail file-source-not-found "${BERTH_FILE_PATHS[i]}: $what does not exist: $AWS_ERR" ;;
    *AccessDenied* | *'(403)'*)
      fail file-source-denied "${BERTH_FILE_PATHS[i]}: the instance role may not read $what (see iamPolicyFor(spec).node): $AWS_ERR" ;;
    *) fail file-source-failed "${BERTH_FILE_PATHS[i]}: cannot fetch $what: $AWS_ERR" ;;
  esac
}

write_files() {
  local i p dir tmp
  for i in "${!BERTH_FILE_PATHS[@]}"; do
    p=${BERTH_FILE_PATHS[i]}
    # @NAME: a configure or health script from a source (bootstrap.configureScriptSource...),
    # which the user's script runs from the state directory (docs/secrets.md).
    [[ $p == @* ]] && p="$STATE_DIR/${p#@}-source.sh"
    dir=$(dirname "$p")
    mkdir -p "$dir" || fail files-failed "cannot create $dir"
    tmp=$(mktemp "$dir/.berth.XXXXXX") || fail files-failed "cannot write in $dir"
    if [[ -n ${BERTH_FILE_SOURCES[i]:-} ]]; then
      fetch_file_source "$i" "$tmp"
    elif ! printf '%s' "${BERTH_FILE_CONTENTS[i]}" >"$tmp"; then
      rm -f "$tmp"
      fail files-failed "cannot write $p"
    fi
    if chmod "${BERTH_FILE_MODES[i]}" "$tmp" &&
      chown "${BERTH_FILE_OWNERS[i]}" "$tmp" && mv -f "$tmp" "$p"; then
      log "wrote $p (${BERTH_FILE_MODES[i]} ${BERTH_FILE_OWNERS[i]})"
    else
      rm -f "$tmp"
      fail files-failed "cannot write $p"
    fi
  done
}

# run_user_script NAME TIMEOUT_SEC SCRIPT: runs the script with bash under `timeout`.
run_user_script() {
  local f="$STATE_DIR/$1.sh"
  printf '%s\n' "$3" >"$f" && chmod 0700 "$f" || return 1
  (cd / && timeout -k 10 "$2" bash "$f" </dev/null) >&2
}

configure() {
  local rc
  [[ -n $BERTH_CONFIGURE_SCRIPT ]] || { log "no configure script"; return 0; }
  run_user_script configure "$BERTH_CONFIGURE_TIMEOUT_SEC" "$BERTH_CONFIGURE_SCRIPT"
  rc=$?
  ((rc == 0)) && return 0
  ((rc == 124 || rc == 137)) && fail configure-timeout "configure script ran longer than ${BERTH_CONFIGURE_TIMEOUT_SEC}s"
  fail "configure-exit-$rc" "configure script exited $rc"
}

# The health script is run until it exits 0, every HEALTH_INTERVAL_SEC, within the health timeout.
wait_healthy() {
  local deadline=$((SECONDS + BERTH_HEALTH_TIMEOUT_SEC)) remaining rc=''
  [[ -n $BERTH_HEALTH_SCRIPT ]] || { log "no health script"; return 0; }
  while :; do
    remaining=$((deadline - SECONDS))
    if ((remaining <= 0)); then
      [[ -n $rc ]] && fail "health-exit-$rc" "health script still failing (exit $rc) at the ${BERTH_HEALTH_TIMEOUT_SEC}s deadline"
      fail health-timeout "not healthy within ${BERTH_HEALTH_TIMEOUT_SEC}s"
    fi
    run_user_script health "$remaining" "$BERTH_HEALTH_SCRIPT"
    rc=$?
    ((rc == 0)) && return 0
    ((rc == 124 || rc == 137)) && fail health-timeout "not healthy within ${BERTH_HEALTH_TIMEOUT_SEC}s"
    if ((SECONDS + HEALTH_INTERVAL_SEC >= deadline)); then
      fail "health-exit-$rc" "health script still failing (exit $rc) at the ${BERTH_HEALTH_TIMEOUT_SEC}s deadline"
    fi
    log "health script exited $rc; retrying in ${HEALTH_INTERVAL_SEC}s"
    "$SLEEP_CMD" "$HEALTH_INTERVAL_SEC"
  done
}

run_steps() {
  set_phase attaching
  attach_volume
  set_phase mounting
  find_device
  log "device $DEVICE"
  prepare_filesystem
  write_fstab
  mount_volume
  write_grow_script
  grow_filesystem
  install_grow_watcher
  chown "$BERTH_MOUNT_OWNER:$BERTH_MOUNT_GROUP" "$BERTH_MOUNT_PATH" ||
    fail chown-failed "chown $BERTH_MOUNT_OWNER:$BERTH_MOUNT_GROUP $BERTH_MOUNT_PATH (the user and group must exist in the image)"
  set_phase configuring
  export BERTH_DEVICE=$DEVICE BERTH_VOLUME_ID=$VOLUME_ID
  write_files
  configure
  set_phase joining
  wait_healthy
  set_phase healthy
}

# ---- Spot interruption watcher ---------------------------------------------------------------
# A spot node installs a systemd unit that runs this same script as `spot-watch`: it polls the
# instance metadata for the interruption notice (spot/instance-action: 404 until EC2 decides,
# then two minutes ahead), and then tags the phase `stopping`, runs the pre-stop script under
# its timeout and unmounts the data volume, so the member stops cleanly before EC2 takes the
# instance. No AWS call but the tag; no internet.
install_spot_watcher() {
  local self="$STATE_DIR/node-bootstrap.sh" unit="$SYSTEMD_DIR/berth-spot-watcher.service"
  [[ $BERTH_SPOT == 1 ]] || return 0
  if ! { cp "$0" "$self" && chmod 0700 "$self"; }; then
    log "warning: could not keep a copy of the bootstrap for the spot watcher"
    return 0
  fi
  mkdir -p "$SYSTEMD_DIR" || { log "warning: could not create $SYSTEMD_DIR"; return 0; }
  cat >"$unit" <<UNIT || { log "warning: could not write $unit"; return 0; }
[Unit]
Description=Berth spot interruption watcher ($BERTH_CLUSTER/$BERTH_NODE_ID)
After=network-online.target

[Service]
Type=simple
ExecStart=/bin/bash $self spot-watch
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
  if ! { "$SYSTEMCTL_CMD" daemon-reload && "$SYSTEMCTL_CMD" enable --now berth-spot-watcher.service; }; then
    log "warning: could not start the spot watcher"
    return 0
  fi
  log "spot watcher installed ($unit)"
}

# Prints the notice and returns 0 once EC2 announced the interruption; 1 while it has not.
spot_notice() {
  local code out="$STATE_DIR/spot-action.json"
  code=$(curl -sS --noproxy '*' --connect-timeout 2 --max-time 5 -o "$out" -w '%{http_code}'     -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" "$IMDS_ENDPOINT/latest/meta-data/spot/instance-action" 2>/dev/null) || code=000
  case $code in
    200) cat "$out"; return 0 ;;
    401) imds_token || true ;; # the token expired
  esac
  return 1
}

spot_watch() {
  local notice rc
  mkdir -p "$STATE_DIR"
  REGION=$BERTH_SPEC_REGION
  imds_token || { log "spot watcher: no IMDSv2 token"; exit 1; }
  until notice=$(spot_notice); do "$SLEEP_CMD" "$SPOT_POLL_SEC"; done
  log "spot interruption notice: $notice"
  INSTANCE_ID=$(imds_get meta-data/instance-id) || INSTANCE_ID=''
  [[ -n $INSTANCE_ID ]] && set_phase stopping
  export BERTH_CLUSTER BERTH_NODE_ID BERTH_INSTANCE_ID=$INSTANCE_ID BERTH_DATA_DIR=$BERTH_MOUNT_PATH BERTH_SPOT_NOTICE=$notice
  if [[ -n $BERTH_PRE_STOP_SCRIPT ]]; then
    run_user_script pre-stop "$BERTH_PRE_STOP_TIMEOUT_SEC" "$BERTH_PRE_STOP_SCRIPT"
    rc=$?
    ((rc == 0)) || log "pre-stop script exited $rc$( ((rc == 124 || rc == 137)) && echo " (ran longer than ${BERTH_PRE_STOP_TIMEOUT_SEC}s)")"
  fi
  sync
  if "$UMOUNT_CMD" "$BERTH_MOUNT_PATH"; then log "unmounted $BERTH_MOUNT_PATH"; else log "warning: could not unmount $BERTH_MOUNT_PATH"; fi
  printf '%s\n' stopped >"$STATE_DIR/spot-watch"
  exit 0
}

# onFailure 'wait': keep the instance (and the heartbeats) until an operator decides.
wait_for_repair() {
  log "waiting for manual repair: touch $STATE_DIR/retry to run the steps again, $STATE_DIR/abandon to give up"
  while :; do
    if [[ -e $STATE_DIR/retry ]]; then
      rm -f "$STATE_DIR/retry"
      return 0
    fi
    if [[ -e $STATE_DIR/abandon ]]; then
      rm -f "$STATE_DIR/abandon"
      return 1
    fi
    if [[ -n $HEARTBEAT_PID ]] && ! kill -0 "$HEARTBEAT_PID" 2>/dev/null; then
      log "the lifecycle action ended while waiting (completed by hand or timed out)"
      return 2
    fi
    "$SLEEP_CMD" "$WAIT_POLL_SEC"
  done
}

# ---- Main -------------------------------------------------------------------------------------
main() {
  local reason rc
  [[ ${1:-} == spot-watch ]] && spot_watch
  mkdir -p "$STATE_DIR" && chmod 0700 "$STATE_DIR" || exit 1
  exec 9>"$STATE_DIR/lock"
  if ! flock -n 9; then
    log "another bootstrap is running"
    exit 1
  fi
  log "cluster $BERTH_CLUSTER node $BERTH_NODE_ID revision $BERTH_REVISION"

  REGION=$BERTH_SPEC_REGION
  imds_token || { log "FAILED: no IMDSv2 token"; exit 1; }
  INSTANCE_ID=$(imds_get meta-data/instance-id) || { log "FAILED: no instance id from IMDS"; exit 1; }
  AZ=$(imds_get meta-data/placement/availability-zone) || { log "FAILED: no availability zone from IMDS"; exit 1; }
  REGION=$(imds_get meta-data/placement/region) || REGION=${AZ%?}
  export BERTH_CLUSTER BERTH_NODE_ID BERTH_REVISION BERTH_INSTANCE_ID=$INSTANCE_ID BERTH_AZ=$AZ \
    BERTH_REGION=$REGION BERTH_DATA_DIR=$BERTH_MOUNT_PATH
  log "instance $INSTANCE_ID in $AZ ($REGION)"

  install_spot_watcher
  trap 'stop_heartbeats' EXIT
  log "group $ASG_NAME, launch hook $HOOK_NAME"
  start_heartbeats

  while :; do
    rm -f "$STATE_DIR/failure-reason"
    if (run_steps); then
      # No heartbeat may cross the completion: AWS would refuse it (No active Lifecycle Action).
      stop_heartbeats
      if complete_lifecycle CONTINUE; then
        set_phase in-service
        log "done"
        exit 0
      fi
      start_heartbeats
      reason=lifecycle-complete-failed
    else
      reason=$(cat "$STATE_DIR/failure-reason" 2>/dev/null)
      reason=${reason:-unexpected-error}
    fi
    # failed:<phase it stopped in>:<reason>, so the controller can name both.
    last=$(cat "$STATE_DIR/phase" 2>/dev/null) || last=''
    case $last in attaching | mounting | configuring | joining | healthy) ;; *) last=launching ;; esac
    set_phase "failed:$last:$reason"
    if [[ $BERTH_ON_FAILURE == wait ]]; then
      wait_for_repair
      rc=$?
      ((rc == 0)) && { log "retrying"; continue; }
      ((rc == 2)) && exit 1
    fi
    stop_heartbeats
    complete_lifecycle ABANDON || true
    exit 1
  done
}

main "$@"
