"""What each platform metric is called in Vietnamese, for reports and the admin chat.

The API name stays beside the label (its own column in the DOCX and XLSX) for technical readers.
"""

from __future__ import annotations

__all__ = ["METRIC_VI", "metric_vi"]

METRIC_VI: dict[str, str] = {
    # Facebook post insights and fields
    "post_total_media_view_unique": "Số người xem bài",
    "post_impressions_unique": "Số người tiếp cận bài",
    "post_clicks": "Lượt nhấp vào bài",
    "post_reactions_by_type_total": "Lượt bày tỏ cảm xúc",
    "reactions": "Lượt bày tỏ cảm xúc",
    "comments": "Lượt bình luận",
    "shares": "Lượt chia sẻ",
    "reach": "Lượt tiếp cận",
    # Zalo OA articles and the website
    "views": "Lượt xem",
    # Followers
    "followers_count": "Người theo dõi Trang",
    "fan_count": "Lượt thích Trang",
    "followers": "Người quan tâm OA",
}


def metric_vi(metric: str) -> str:
    """The Vietnamese label of ``metric`` (its API name when Loa has none)."""
    return METRIC_VI.get(metric, metric)
